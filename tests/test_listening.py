"""Listening: the console reads every opinion answer of a contest, by step and by search,
a page at a time; a marketer replies to one participant, signed with their own name, by
email in the participant's language and on the participant's contest page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from contests import brands
from contests.clock import utcnow
from contests.models import Answer, AuditLog, Brand, Contest, MarketerRole, Outbox, Step
from contests.steps import completion
from tests.conftest import Mailbox, eventually
from tests.factories import (
    LINKS,
    added_step,
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    email,
    entrant,
    live_contest,
    marketer_console,
    page_text,
    player,
    step_html,
)

QUESTION = "Which origin should we roast next season?"


async def _opinion(contest: Contest, question: str = QUESTION) -> Step:
    settings = {"question": question, "min_length": "5", "max_length": "200"}
    return await added_step(contest, "opinion", settings, title="Tell us", required=False)


async def _answer(
    contest: Contest, step: Step, words: str, *, name: str = "", locale: str = "es"
) -> Answer:
    entry = await entrant(contest, name=name, locale=locale)
    assert await completion.submit(entry, step, {"answer": words}, utcnow(), links=LINKS)
    return await Answer.get(entry=entry, step=step)


def _answers_path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}/answers"


def _shown(page: str) -> list[str]:
    """The answers' words on a console page, in the order shown."""
    return [
        re.sub(r"\s+", " ", words).strip()
        for words in re.findall(r'data-testid="words">(.*?)</blockquote>', page, re.S)
    ]


async def test_every_answer_is_listed_by_step_and_found_by_words_or_name(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    roast, shops = await _opinion(contest), await _opinion(contest, "What about our shops?")
    await _answer(contest, roast, "Huila, please", name="Ana")
    await _answer(contest, roast, "Something from Kenya", name="Luis")
    await _answer(contest, shops, "Open earlier on Sundays", name="Bea")
    async with marketer_console(app, mailbox, address) as console:
        everything = await console.get(_answers_path(brand, contest))
        assert everything.status_code == 200
        assert _shown(everything.text) == [
            "Open earlier on Sundays",
            "Something from Kenya",
            "Huila, please",
        ]
        assert "2 answers, 2 waiting for a reply" in page_text(everything)
        one_step = await console.get(_answers_path(brand, contest), params={"step": roast.id})
        assert _shown(one_step.text) == ["Something from Kenya", "Huila, please"]
        by_words = await console.get(_answers_path(brand, contest), params={"q": "kenya"})
        assert _shown(by_words.text) == ["Something from Kenya"]
        by_name = await console.get(_answers_path(brand, contest), params={"q": "bea"})
        assert _shown(by_name.text) == ["Open earlier on Sundays"]
        nothing = await console.get(_answers_path(brand, contest), params={"q": "espresso"})
        assert _shown(nothing.text) == [] and "No answer matches this search." in nothing.text


async def test_answers_come_a_page_at_a_time_without_repeating_or_skipping_one(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    step = await _opinion(contest)
    written = [f"Answer number {n:02}" for n in range(30)]
    for words in written:
        await _answer(contest, step, words)
    async with marketer_console(app, mailbox, address) as console:
        first = await console.get(_answers_path(brand, contest))
        assert len(_shown(first.text)) == 25
        older = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert older, "no link to the older answers"
        second = await console.get(older.group(1).replace("&amp;", "&"))
        assert 'rel="next"' not in second.text
    assert _shown(first.text) + _shown(second.text) == written[::-1]


async def test_a_reply_is_signed_emailed_in_the_participants_language_and_shown_to_them(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    step = await _opinion(contest)
    async with player(app, mailbox, contest, language="es") as fan:
        entry_email = (await fan.get("/me")).text
        token = await csrf(fan, f"/c/{contest.slug}")
        sent = await fan.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": token, "answer": "Más descafeinado, por favor"},
        )
        assert sent.status_code == 303
        answer = await Answer.get(step=step).prefetch_related("entry__participant")
        person = answer.entry.participant
        assert person is not None and person.email and person.email in entry_email
        async with marketer_console(app, mailbox, address) as console:
            listing = _answers_path(brand, contest)
            form_token = await csrf(console, listing)
            replied = await console.post(
                f"{listing}/{answer.id}/reply",
                data={
                    "csrf_token": form_token,
                    "reply": "¡Apuntado, gracias!\nVolverá en primavera.",
                    "back": listing + "?waiting=1",
                },
            )
            assert replied.headers["location"] == f"{listing}?waiting=1#answer-{answer.id}-feedback"
            said = await after_redirect(console, replied)
            assert "Reply sent to" in said and "signed “Marta”" in said

        message = await eventually(lambda: _mail_to(mailbox, person.email or ""))
        assert "Marta" in str(message["Subject"]) and "te ha respondido" in str(message["Subject"])
        assert str(message["Reply-To"]) == brand.reply_to
        body = Mailbox.text(message)
        assert "Más descafeinado, por favor" in body and "Volverá en primavera." in body
        assert f"http://testserver/c/{contest.slug}" in body

        own_page = step_html((await fan.get(f"/c/{contest.slug}")).text, step)
        assert 'data-testid="brand-reply"' in own_page and "Marta" in own_page
        assert "Volverá en primavera." in own_page
    logged = await AuditLog.get(action="answer.replied", brand=brand)
    assert logged.data["after"] == "¡Apuntado, gracias!\nVolverá en primavera."
    assert (await Outbox.get(kind="reply", to_email=person.email)).locale == "es"


async def _mail_to(mailbox: Mailbox, address: str) -> Any:
    found = [m for m in mailbox.to(address) if "respond" in str(m["Subject"])]
    return found[-1] if found else None


async def test_a_viewer_reads_the_answers_but_cannot_reply(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    reader = email("viewer")
    await brands.add_marketer(
        brand, reader, name="Vera", role=MarketerRole.VIEWER, actor="test", now=utcnow()
    )
    contest = await live_contest(brand)
    answer = await _answer(contest, await _opinion(contest), "Huila, please")
    async with marketer_console(app, mailbox, reader) as console:
        listing = await console.get(_answers_path(brand, contest))
        assert listing.status_code == 200 and "Huila, please" in listing.text
        assert "<textarea" not in listing.text
        refused = await console.post(
            f"{_answers_path(brand, contest)}/{answer.id}/reply",
            data={"csrf_token": await csrf(console, _answers_path(brand, contest)), "reply": "Hi"},
        )
        assert refused.status_code == 403
        assert "ask an owner to make you an editor" in page_text(refused)
    assert (await Answer.get(id=answer.id)).replied_at is None


async def test_another_brands_marketer_neither_reads_nor_replies(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    mine, address = await brand_and_marketer_address()
    theirs, _ = await brand_with_marketer()
    their_contest = await live_contest(theirs)
    my_contest = await live_contest(mine)
    answer = await _answer(their_contest, await _opinion(their_contest), "Secret words")
    async with marketer_console(app, mailbox, address) as console:
        token = await csrf(console, _answers_path(mine, my_contest))
        for brand in (theirs, mine):
            listing = await console.get(_answers_path(brand, their_contest))
            assert listing.status_code == 404 and "Secret words" not in listing.text
        # Their answer through my own contest's address.
        crossed = await console.post(
            f"{_answers_path(mine, my_contest)}/{answer.id}/reply",
            data={"csrf_token": token, "reply": "Hello"},
        )
        assert crossed.status_code == 303
        assert "This answer does not exist." in await after_redirect(console, crossed)
    assert (await Answer.get(id=answer.id)).replied_at is None


async def test_a_wrong_address_or_an_empty_reply_is_explained_not_a_server_error(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    answer = await _answer(contest, await _opinion(contest), "Huila, please")
    async with marketer_console(app, mailbox, address) as console:
        listing = _answers_path(brand, contest)
        for params in ({"before": "x"}, {"step": "-1"}, {"q": "a" * 101}):
            bad = await console.get(listing, params=params)
            assert bad.status_code == 422, params
        empty = await console.post(
            f"{listing}/{answer.id}/reply",
            data={
                "csrf_token": await csrf(console, listing),
                "reply": "   ",
                "back": "//evil.example",
            },
        )
        assert empty.headers["location"] == f"{listing}#answer-{answer.id}-feedback"
        assert "Write your reply." in await after_redirect(console, empty)
    assert (await Answer.get(id=answer.id)).replied_at is None


async def test_an_old_answer_keeps_its_place_when_a_new_one_arrives(database_url: str) -> None:
    from contests import answers

    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    step = await _opinion(contest)
    first = await _answer(contest, step, "The first one")
    second = await _answer(contest, step, "The second one")
    page = await answers.opinion_answers(contest.id, limit=1)
    assert [a.id for a in page] == [second.id]
    await _answer(contest, step, "A newer one")
    after = await answers.opinion_answers(contest.id, before=page[-1].id, limit=1)
    assert [a.id for a in after] == [first.id]
    assert first.created_at <= second.created_at + timedelta(seconds=1)


async def test_a_marketer_without_a_name_is_led_to_sign_replies_with_their_own(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    # An owner who created the brand before giving any name: replies are signed with
    # the brand's, and the answers page says so and leads to where the name is given.
    brand, _ = await brand_with_marketer()
    address = email("nameless")
    await brands.add_marketer(brand, address, role=MarketerRole.EDITOR, actor="t", now=utcnow())
    contest = await live_contest(brand)
    answer = await _answer(contest, await _opinion(contest), "Un natural de Etiopía")
    listing = _answers_path(brand, contest)
    async with marketer_console(app, mailbox, address) as console:
        before = (await console.get(listing)).text
        assert f"Your replies are signed “{brand.name}”" in html.unescape(before)
        assert f'href="/console/{brand.slug}#signature"' in before
        brand_page = f"/console/{brand.slug}"
        token = await csrf(console, brand_page)
        empty = await console.post(f"{brand_page}/signature", data={"csrf_token": token})
        assert "Write the name you sign your replies with." in await after_redirect(console, empty)
        saved = await console.post(
            f"{brand_page}/signature", data={"csrf_token": token, "name": "  Lucía   Gil "}
        )
        assert "Your replies are now signed “Lucía Gil”." in await after_redirect(console, saved)
        after = page_text(await console.get(listing))
        assert 'data-testid="unsigned"' not in after and "Signed “Lucía Gil”" in after
        replied = await console.post(
            f"{listing}/{answer.id}/reply",
            data={"csrf_token": await csrf(console, listing), "reply": "¡Gracias!"},
        )
        assert replied.status_code == 303
    assert (await Answer.get(id=answer.id)).replied_by_name == "Lucía Gil"
