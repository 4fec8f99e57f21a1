"""Quiz steps: one question answered on the contest page, checked on the server, with a
number of tries per entry kept in the database and a limit on how fast one device sends
answers. Every refusal is said next to the step and records nothing but the try."""

from __future__ import annotations

import asyncio
import html
import re
import secrets
from typing import Any

import httpx
import pytest

from contests import authoring
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.errors import GymkanaError, InvalidInput, NotAllowed
from contests.models import Answer, Completion, Contest, Step
from contests.settings import Settings
from contests.steps import completion
from contests.steps.quiz import normalise_answer
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
    page_text,
    player,
    sign_in,
    step_html,
    step_of,
)
from tests.support.flows import app_with

QUESTION = "On which days do we roast?"
CHOICES = {
    "choice_1": "Mondays",
    "choice_2": "Tuesdays and Fridays",
    "right_2": "on",
    "choice_3": "Every day",
}
TYPED = {"answer_mode": "text", "accepted": "Doña Marleny\nMarleny"}


async def _quiz(contest: Contest, **settings: str) -> Step:
    settings = {"question": QUESTION, **CHOICES, **settings}
    return await added_step(contest, "quiz", settings, title="The roasting days", points=2)


async def _live_quiz(**settings: str) -> tuple[Contest, Step]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    return contest, await _quiz(contest, **settings)


async def _send(client: httpx.AsyncClient, contest: Contest, step: Step, **fields: str) -> str:
    """Answer from the contest page; returns the page the browser lands on."""
    token = await csrf(client, f"/c/{contest.slug}")
    response = await client.post(
        f"/c/{contest.slug}/steps/{step.public_id}", data={"csrf_token": token, **fields}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/c/{contest.slug}#step-{step.public_id}-feedback"
    return (await client.get(response.headers["location"])).text


def _said_at_step(page: str, step: Step, role: str) -> str:
    """The message shown at the step (and only there), announced with ``role``."""
    here = step_html(page, step)
    match = re.search(rf'<p id="([^"]+)" class="flash [^"]*" role="{role}"[^>]*>([^<]*)</p>', here)
    assert match, here
    _, text = match.groups()
    assert page.count(text) == 1, "the message is shown once, at its step"
    return html.unescape(text)


async def _tries(step: Step) -> int:
    answers = await Answer.filter(step=step)
    return sum(answer.attempts for answer in answers)


async def test_the_right_choice_completes_the_step_and_says_so_at_the_step(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _live_quiz()
    async with player(app, mailbox, contest) as client:
        page = await _send(client, contest, step, choice="2")
    assert _said_at_step(page, step, "status") == "Right answer! “The roasting days” is done."
    done = await Completion.get(entry__contest=contest, step=step)
    assert done.points == 2


def test_typed_answers_match_whatever_their_case_spacing_punctuation_and_accents() -> None:
    for typed in ("Doña Marleny", " dona   MARLENY ", "¡Doña Marleny!", "doñamarleny."):
        assert normalise_answer(typed) == "donamarleny"
    assert normalise_answer("Año") == normalise_answer("ano")
    assert normalise_answer("Marlen") != normalise_answer("Marleny")


async def test_a_typed_answer_completes_the_step(database_url: str) -> None:
    contest, step = await _live_quiz(**TYPED)
    entry = await entrant(contest)
    assert await completion.submit(entry, step, {"answer": "  ¡MARLENY!  "}, utcnow(), links=LINKS)
    assert await Completion.filter(entry=entry, step=step).exists()


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        ("en", "That is not right. You have 2 tries left.", "You have 1 try left."),
        ("es", "No es correcto. Te quedan 2 intentos.", "Te queda 1 intento."),
    ],
)
async def test_a_wrong_answer_says_at_the_step_how_many_tries_are_left(
    app: Any, worker: Any, mailbox: Mailbox, language: str, first: str, second: str
) -> None:
    contest, step = await _live_quiz()
    async with player(app, mailbox, contest, language=language) as client:
        page = await _send(client, contest, step, choice="1")
        assert _said_at_step(page, step, "alert") == first
        here = step_html(page, step)
        # The choices point at the message, so a screen reader reads it with them.
        described = re.search(r'<fieldset class="choices" aria-describedby="([^"]+)"', here)
        assert described and f"step-{step.public_id}-feedback" in described.group(1).split()
        page = await _send(client, contest, step, choice="3")
        assert second in _said_at_step(page, step, "alert")
    assert not await Completion.filter(step=step).exists()
    assert await _tries(step) == 2


async def test_out_of_tries_is_said_plainly_and_even_the_right_answer_no_longer_counts(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _live_quiz(max_attempts="2")
    async with player(app, mailbox, contest) as client:
        await _send(client, contest, step, choice="1")
        page = await _send(client, contest, step, choice="3")
        assert "it was your last try" in _said_at_step(page, step, "alert")
        page = await _send(client, contest, step, choice="2")
        assert "You have no tries left for this question" in _said_at_step(page, step, "alert")
        here = step_html(page, step)
        assert 'data-testid="no-tries"' in here and "<form" not in here
    assert not await Completion.filter(step=step).exists()
    assert await _tries(step) == 2


async def test_tries_sent_all_at_once_are_counted_in_the_database_up_to_the_limit(
    database_url: str,
) -> None:
    contest, step = await _live_quiz(max_attempts="3")
    entry = await entrant(contest)

    async def guess() -> str:
        try:
            await completion.submit(entry, step, {"choice": "1"}, utcnow(), links=LINKS)
        except GymkanaError as refused:
            return refused.code
        return "done"

    codes = await asyncio.gather(*(guess() for _ in range(8)))
    # Two told how many are left, one told it was the last, five refused.
    assert sorted(codes) == ["no_tries_left"] * 6 + ["wrong_answer"] * 2, codes
    assert (await Answer.get(entry=entry, step=step)).attempts == 3
    with pytest.raises(NotAllowed):
        await completion.submit(entry, step, {"choice": "2"}, utcnow(), links=LINKS)
    assert not await Completion.filter(entry=entry, step=step).exists()


@pytest.mark.parametrize(
    ("quiz", "fields", "message"),
    [
        ({}, {"choice": ""}, "Choose one of the answers."),
        ({}, {"choice": "9"}, "Choose one of the answers."),
        ({}, {"choice": "two"}, "Choose one of the answers."),
        ({}, {"choice": "²"}, "Choose one of the answers."),
        (TYPED, {"answer": " ¡! "}, "Type your answer."),
    ],
)
async def test_nothing_answered_costs_no_try(
    app: Any,
    worker: Any,
    mailbox: Mailbox,
    quiz: dict[str, str],
    fields: dict[str, str],
    message: str,
) -> None:
    contest, step = await _live_quiz(**quiz)
    async with player(app, mailbox, contest) as client:
        page = await _send(client, contest, step, **fields)
    assert _said_at_step(page, step, "alert") == message
    assert not await Answer.filter(step=step).exists()
    assert not await Completion.filter(step=step).exists()


async def test_an_over_long_answer_is_refused_at_the_step_and_costs_no_try(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _live_quiz(**TYPED)
    async with player(app, mailbox, contest) as client:
        page = await _send(client, contest, step, answer="Marleny " * 40)
    assert "is too long" in _said_at_step(page, step, "alert")
    assert not await Answer.filter(step=step).exists()


async def test_the_page_never_carries_the_right_answers(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    pages = []
    for right in ("right_1", "right_3"):
        contest = await live_contest(brand)
        step = await _quiz(contest, **{**CHOICES, "right_2": "", right: "on"})
        async with player(app, mailbox, contest) as client:
            here = step_html((await client.get(f"/c/{contest.slug}")).text, step)
        here = re.sub(r'name="csrf_token" value="[^"]+"', "", here)
        pages.append(here.replace(step.public_id, "STEP").replace(contest.slug, "CONTEST"))
    # Whichever choice is right, the participant's browser receives the same thing.
    assert pages[0] == pages[1]
    contest, _ = await _live_quiz(answer_mode="text", accepted="Zorblax Quintessa")
    async with player(app, mailbox, contest) as client:
        page = page_text(await client.get(f"/c/{contest.slug}"))
    assert QUESTION in page and "Zorblax" not in page


async def test_one_device_answering_through_many_accounts_is_slowed_down(
    settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    limits = {"step_client_limit": "2/10 minutes", "code_attempt_limit": "100/minute"}
    contest, step = await _live_quiz(max_attempts="5")
    shared, other = (f"10.77.{secrets.randbelow(250)}.{n}" for n in (1, 2))
    async with app_with(settings.model_copy(update=limits), {}) as app:
        for _ in range(2):
            async with player(app, mailbox, contest, address=shared) as client:
                page = await _send(client, contest, step, choice="1")
                assert "That is not right." in _said_at_step(page, step, "alert")
        async with player(app, mailbox, contest, address=shared) as client:
            page = await _send(client, contest, step, choice="2")
            assert "Too many attempts" in _said_at_step(page, step, "alert")
        async with player(app, mailbox, contest, address=other) as client:
            page = await _send(client, contest, step, choice="2")
            assert "Right answer!" in _said_at_step(page, step, "status")
    assert await _tries(step) == 3
    assert await Completion.filter(step=step).count() == 1


async def test_quiz_settings_say_what_is_wrong(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    wrong = [
        ({"choice_1": "Mondays", "right_1": "on"}, "at least two choices"),
        ({"choice_1": "A", "choice_2": "B"}, "Mark the right choice."),
        ({"choice_1": "A", "right_1": "on", "choice_2": "B", "right_2": "on"}, "leave at least"),
        ({"answer_mode": "text"}, "List the accepted answers"),
        ({"answer_mode": "text", "accepted": "x\n" * 1 + "y" * 201}, "at most 20 accepted"),
        ({"max_attempts": "21"}, "between 1 and 20"),
    ]
    for settings, message in wrong:
        with pytest.raises(InvalidInput) as refused:
            await authoring.add_step(
                contest,
                StepDraft(kind="quiz", title="Q", settings={"question": QUESTION, **settings}),
                actor="test",
                now=utcnow(),
            )
        assert message in str(refused.value), settings
    assert await step_of(contest, "quiz") is None


async def test_blank_rows_between_choices_keep_each_mark_on_its_choice(database_url: str) -> None:
    contest, step = await _live_quiz(
        choice_1="", choice_2="Mondays", choice_3="", choice_4="Fridays", right_4="on", right_2=""
    )
    assert step.config["choices"] == ["Mondays", "Fridays"]
    assert step.config["right"] == [2]
    entry = await entrant(contest)
    assert await completion.submit(entry, step, {"choice": "2"}, utcnow(), links=LINKS)


async def test_a_marketer_adds_a_quiz_in_the_console_and_sees_which_choice_is_right(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    contest = await draft_contest(brand)
    path = f"/console/{brand.slug}/contests/{contest.id}"
    async with browser(app, language="en") as console:
        await sign_in(console, mailbox, address, path)
        form = {"kind": "quiz", "title": "The roasting days", "question": QUESTION, **CHOICES}
        response = await console.post(
            f"{path}/steps", data={"csrf_token": await csrf(console, path), **form}
        )
        assert "Step added." in await after_redirect(console, response)
        page = (await console.get(path)).text
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "every field of every kind's form has its own id"
    assert "<legend>How participants answer</legend>" in page
    assert "<li>Tuesdays and Fridays <strong>(right)</strong></li>" in page
    step = await step_of(contest, "quiz")
    assert step.config["right"] == [2] and step.config["max_attempts"] == 3
