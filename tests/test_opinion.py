"""Opinion steps (“tell us”): the participant's own words, counted once sent and never
judged, kept as plain text; the brand may reply, and the reply is shown under the answer.
The participant may change the answer while the contest is open and until the brand
replies. Every refusal is said next to the step and records nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from contests import accounts, answers, closing
from contests.clock import utcnow
from contests.errors import InvalidInput, NotFound
from contests.models import Answer, AuditLog, Completion, Contest, Entry, Marketer, Step
from contests.steps import completion
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    added_step,
    after_redirect,
    brand_with_marketer,
    browser,
    csrf,
    draft_contest,
    email,
    entrant,
    live_contest,
    player,
    sign_in,
    step_html,
    step_of,
)

QUESTION = "Which origin should we roast next season?"
WORDS = "I <3 your Huila & your shops.\nMore decaf, please!"


async def _opinion(contest: Contest) -> Step:
    settings = {"question": QUESTION, "min_length": "10", "max_length": "80"}
    return await added_step(contest, "opinion", settings, title="Tell us", required=False)


async def _live_opinion() -> tuple[Contest, Step, Marketer]:
    brand, marketer = await brand_with_marketer()
    contest = await live_contest(brand)
    return contest, await _opinion(contest), marketer


async def _send(
    client: httpx.AsyncClient, contest: Contest, step: Step, words: str, field: str = "answer"
) -> str:
    """Answer from the contest page; returns the page the browser lands on."""
    token = await csrf(client, f"/c/{contest.slug}")
    response = await client.post(
        f"/c/{contest.slug}/steps/{step.public_id}", data={"csrf_token": token, field: words}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/c/{contest.slug}#step-{step.public_id}-feedback"
    return (await client.get(response.headers["location"])).text


def _message_at(page: str, step: Step) -> str:
    here = step_html(page, step)
    match = re.search(r'<p id="step-[^"]+-feedback" class="flash [^"]*"[^>]*>([^<]*)</p>', here)
    assert match, here
    return html.unescape(match.group(1))


async def test_an_answer_completes_the_step_and_is_kept_and_shown_as_typed(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step, _ = await _live_opinion()
    async with player(app, mailbox, contest) as client:
        page = await _send(client, contest, step, f"  {WORDS}\r\n")
    assert _message_at(page, step) == "Thank you! Your answer to “Tell us” is saved."
    kept = await Answer.get(step=step)
    assert kept.text == WORDS
    assert await Completion.filter(step=step).count() == 1
    # Shown escaped: what was typed is text on the page, never markup.
    here = step_html(page, step)
    assert "I &lt;3 your Huila &amp; your shops." in here
    assert 'data-testid="my-answer"' in here


REFUSED = {
    "too short": ("Great!", "too short: write at least 10 characters"),
    "short once spaces are left out": ("a   b   c     d", "too short"),
    "too long": ("x" * 81, "too long: at most 80 characters"),
    "HTML": ("<b>Great</b> coffee, really", "plain text, without HTML tags"),
    "a script": ("Nice <script>alert(1)</script>", "plain text, without HTML tags"),
    "an HTML comment": ("Lovely coffee <!-- hidden", "plain text, without HTML tags"),
    "control characters": ("Great coffee\x1b[2J\x07 here", "cannot be used"),
    "NUL": ("Great coffee\x00 here", "cannot be used"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_a_refused_answer_is_said_at_the_step_and_records_nothing(
    app: Any, worker: Any, mailbox: Mailbox, case: str
) -> None:
    words, message = REFUSED[case]
    contest, step, _ = await _live_opinion()
    code = await step_of(contest, "code")
    async with player(app, mailbox, contest) as client:
        await _send(client, contest, code, "SECRET-42", field="code")
        page = await _send(client, contest, step, words)
        assert message in _message_at(page, step)
        here = step_html(page, step)
        described = re.search(r'<textarea [^>]*aria-describedby="([^"]+)"', here)
        assert described and f"step-{step.public_id}-feedback" in described.group(1).split()
        assert 'aria-invalid="true"' in here
    assert not await Answer.filter(step=step).exists()
    assert not await Completion.filter(step=step).exists()
    # The entry's other work is untouched.
    assert await Completion.filter(step=code).count() == 1


async def test_the_service_refuses_what_the_form_would_have_refused(database_url: str) -> None:
    contest, step, _ = await _live_opinion()
    entry = await entrant(contest)
    for words, message in REFUSED.values():
        with pytest.raises(InvalidInput) as refused:
            await completion.submit(entry, step, {"answer": words}, utcnow(), links=LINKS)
        assert message in str(refused.value)
    assert not await Answer.filter(entry=entry).exists()
    assert not await Completion.filter(entry=entry).exists()


async def test_the_answer_may_change_until_the_brand_replies(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step, marketer = await _live_opinion()
    async with player(app, mailbox, contest, language="es") as client:
        await _send(client, contest, step, "Un café de Etiopía, por favor.")
        first = await Answer.get(step=step)
        page = await _send(client, contest, step, "Mejor uno de Kenia, por favor.")
        assert "Tu respuesta a “Tell us” está guardada" in _message_at(page, step)
        assert "Cambiar mi respuesta" in step_html(page, step)
        edited = await Answer.get(step=step)
        assert edited.text == "Mejor uno de Kenia, por favor."
        assert edited.created_at == first.created_at and edited.updated_at > first.updated_at
        assert await Completion.filter(step=step).count() == 1

        await answers.reply(
            marketer, edited.id, "¡Apuntado! Gracias, de verdad.", now=utcnow(), links=LINKS
        )
        page = (await client.get(f"/c/{contest.slug}")).text
        here = step_html(page, step)
        assert "¡Apuntado! Gracias, de verdad." in html.unescape(here)
        assert "Marta te respondió" in html.unescape(here)
        assert "<textarea" not in here

        page = await _send(client, contest, step, "Y otro de Ruanda, si puede ser.")
        assert "La marca ya ha respondido a tu respuesta" in _message_at(page, step)
    assert (await Answer.get(step=step)).text == "Mejor uno de Kenia, por favor."


async def test_a_closed_contest_keeps_the_answer_on_the_page_without_the_form(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step, _ = await _live_opinion()
    async with player(app, mailbox, contest) as client:
        await _send(client, contest, step, WORDS)
        token = await csrf(client, f"/c/{contest.slug}")
        await closing.close(contest.id, utcnow())
        here = step_html((await client.get(f"/c/{contest.slug}")).text, step)
        assert 'data-testid="my-answer"' in here and "<textarea" not in here
        response = await client.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": token, "answer": "Something else entirely"},
        )
        assert response.status_code == 303
    assert (await Answer.get(step=step)).text == WORDS


async def _answered() -> tuple[Answer, Marketer, Entry]:
    contest, step, marketer = await _live_opinion()
    entry = await entrant(contest)
    assert await completion.submit(entry, step, {"answer": WORDS}, utcnow(), links=LINKS)
    return await Answer.get(entry=entry, step=step), marketer, entry


async def test_a_reply_is_signed_by_the_marketer_and_audited(database_url: str) -> None:
    answer, marketer, _ = await _answered()
    await answers.reply(
        marketer, answer.id, "Thank you, Ana!\nDecaf is coming.", now=utcnow(), links=LINKS
    )
    replied = await Answer.get(id=answer.id)
    assert replied.reply == "Thank you, Ana!\nDecaf is coming."
    assert replied.replied_by_name == "Marta" and replied.replied_at is not None
    assert replied.replied_by_id == marketer.id  # type: ignore[attr-defined]
    [logged] = await AuditLog.filter(
        action="answer.replied",
        brand_id=marketer.brand_id,  # type: ignore[attr-defined]
    )
    assert logged.data["answer"] == answer.id
    assert logged.actor == marketer.email and logged.data["after"] == replied.reply


async def test_a_second_reply_replaces_the_first_and_the_audit_log_keeps_both(
    database_url: str,
) -> None:
    answer, marketer, _ = await _answered()
    await answers.reply(marketer, answer.id, "Thank you, Aan!", now=utcnow(), links=LINKS)
    await answers.reply(marketer, answer.id, "Thank you, Ana!", now=utcnow(), links=LINKS)
    assert (await Answer.get(id=answer.id)).reply == "Thank you, Ana!"
    logged = await AuditLog.filter(action="answer.replied", brand_id=marketer.brand_id).order_by(  # type: ignore[attr-defined]
        "id"
    )
    assert [(row.data["before"], row.data["after"]) for row in logged] == [
        ("", "Thank you, Aan!"),
        ("Thank you, Aan!", "Thank you, Ana!"),
    ]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("   ", "Write your reply."),
        ("x" * 2001, "too long"),
        ("<p>Thanks</p>", "without HTML tags"),
        ("Thanks\x1b[2J", "cannot be used"),
    ],
)
async def test_a_reply_that_cannot_be_kept_is_refused_and_nothing_is_recorded(
    database_url: str, reply: str, message: str
) -> None:
    answer, marketer, _ = await _answered()
    with pytest.raises(InvalidInput) as refused:
        await answers.reply(marketer, answer.id, reply, now=utcnow(), links=LINKS)
    assert message in str(refused.value)
    kept = await Answer.get(id=answer.id)
    assert kept.reply == "" and kept.replied_at is None
    assert not await AuditLog.filter(
        action="answer.replied",
        brand_id=marketer.brand_id,  # type: ignore[attr-defined]
    ).exists()


async def test_only_the_brands_own_marketers_reply_and_only_to_words(database_url: str) -> None:
    answer, marketer, entry = await _answered()
    _, stranger = await brand_with_marketer()
    with pytest.raises(NotFound):
        await answers.reply(stranger, answer.id, "Hello from elsewhere", now=utcnow(), links=LINKS)
    assert (await Answer.get(id=answer.id)).replied_at is None
    # A quiz's row keeps tries, not words: there is nothing to reply to.
    contest = await Contest.get(id=entry.contest_id).prefetch_related("brand")  # type: ignore[attr-defined]
    quiz = await added_step(
        contest, "quiz", {"question": "Where?", "answer_mode": "text", "accepted": "Huila"}
    )
    with pytest.raises(InvalidInput):
        await completion.submit(entry, quiz, {"answer": "Sidamo"}, utcnow(), links=LINKS)
    tries = await Answer.get(entry=entry, step=quiz)
    with pytest.raises(NotFound):
        await answers.reply(marketer, tries.id, "Nice try", now=utcnow(), links=LINKS)


async def test_the_participants_export_holds_the_answer_and_the_reply(database_url: str) -> None:
    answer, marketer, entry = await _answered()
    await answers.reply(marketer, answer.id, "Thank you!", now=utcnow(), links=LINKS)
    await entry.fetch_related("participant")
    assert entry.participant is not None
    exported = await accounts.export(entry.participant, now=utcnow())
    [mine] = [e for e in exported["entries"] if e["pseudonymous_id"] == entry.public_id]
    [kept] = mine["answers"]
    assert kept["answer"] == WORDS and kept["kind"] == "opinion"
    assert kept["reply"]["text"] == "Thank you!" and kept["reply"]["signed"] == "Marta"


async def test_a_marketer_adds_an_opinion_step_in_the_console(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    contest = await draft_contest(brand)
    path = f"/console/{brand.slug}/contests/{contest.id}"
    async with browser(app, language="es") as console:
        await sign_in(console, mailbox, address, path)
        form = {"kind": "opinion", "title": "Cuéntanos", "question": QUESTION, "max_length": "300"}
        response = await console.post(
            f"{path}/steps", data={"csrf_token": await csrf(console, path), **form}
        )
        assert "Paso añadido." in await after_redirect(console, response)
        page = html.unescape((await console.get(path)).text)
    assert QUESTION in page and "de 10 a 300 caracteres" in page
    step = await step_of(contest, "opinion")
    assert step.config == {"question": QUESTION, "min_length": 10, "max_length": 300}
