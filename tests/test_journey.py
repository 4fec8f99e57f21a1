"""The participant's contest page: its facts (dates in a named zone, how many take part),
progress with the right plural forms, the next clue, and the answer to a step shown in
that step's own block, tied to its field for screen readers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contests import entries
from contests.clock import utcnow
from contests.models import Completion, Contest, Step
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    brand_with_marketer,
    browser,
    csrf,
    email,
    enter_on_the_web,
    entrant,
    live_contest,
    sign_in,
    step_of,
)
from tests.support.html import Element, parse

CODE = "SECRET-42"


async def _page(client: httpx.AsyncClient, contest: Contest) -> Element:
    response = await client.get(f"/c/{contest.slug}")
    assert response.status_code == 200, response.text
    return parse(response.text)


async def _send_code(
    client: httpx.AsyncClient, contest: Contest, step: Step, code: str, token: str | None = None
) -> Element:
    """Type a code into the step and follow the answer back to the contest page."""
    data = {"code": code, "csrf_token": token or await csrf(client, f"/c/{contest.slug}")}
    response = await client.post(f"/c/{contest.slug}/steps/{step.public_id}", data=data)
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/{contest.slug}#step-{step.public_id}-feedback"
    return await _page(client, contest)


def _feedback(page: Element) -> list[Element]:
    return [e for e in page.walk() if "data-feedback" in e.attrs]


async def _answer_to_a_code(
    app: Any, mailbox: Mailbox, language: str, code: str, token: str | None = None
) -> tuple[Element, Step]:
    """An entrant types a code into the code step: the page it comes back to."""
    contest = await live_contest((await brand_with_marketer())[0], code=CODE)
    step = await step_of(contest, "code")
    async with browser(app, language=language) as player:
        await enter_on_the_web(player, mailbox, contest)
        return await _send_code(player, contest, step, code, token), step


async def test_a_wrong_code_is_answered_in_its_step_and_describes_the_field(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    page, step = await _answer_to_a_code(app, mailbox, "en", "not it")
    [message] = _feedback(page)
    assert message in page.by_id(f"step-{step.public_id}").walk()
    assert message.attrs["role"] == "alert" and message.attrs["tabindex"] == "-1"
    assert message.text == "That is not the code. Look again, it is on the brand's page."
    field = page.by_id(f"code-{step.public_id}")
    assert field.attrs["aria-describedby"] == message.attrs["id"]
    assert field.attrs["aria-invalid"] == "true"


async def test_the_right_code_is_confirmed_in_its_step(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    page, step = await _answer_to_a_code(app, mailbox, "es", CODE.lower())
    [message] = _feedback(page)
    block = page.by_id(f"step-{step.public_id}")
    assert message in block.walk() and message.attrs["role"] == "status"
    assert message.text == "¡Bien encontrado! Has completado “Find the code”."
    assert "done" in block.attrs["class"].split()


async def test_a_refused_form_is_answered_in_the_step_it_was_sent_from(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    page, step = await _answer_to_a_code(app, mailbox, "en", CODE, token="forged-token")
    [message] = _feedback(page)
    assert message in page.by_id(f"step-{step.public_id}").walk()
    assert message.text.startswith("This form has expired")
    assert not await Completion.filter(step=step).exists()


async def test_a_message_about_a_step_the_page_does_not_show_is_at_its_top(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest = await live_contest((await brand_with_marketer())[0], code=CODE)
    step = await step_of(contest, "code")
    async with browser(app, language="en") as player:
        # Signed in, not entered: the page lists the steps but has no block to answer in.
        await sign_in(player, mailbox, email("player"), f"/c/{contest.slug}")
        page = await _send_code(player, contest, step, CODE)
    [message] = _feedback(page)
    [main] = page.find("main")
    assert main.children and message in main.walk()
    assert message.attrs["id"] == "feedback"
    assert message.text == "Enter the contest first, then do the steps."


async def test_taking_part_without_consent_is_answered_beside_the_form(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language="en") as player:
        await sign_in(player, mailbox, email("player"), f"/c/{contest.slug}")
        response = await player.post(
            f"/c/{contest.slug}/enter",
            data={"csrf_token": await csrf(player, f"/c/{contest.slug}")},
        )
        assert response.headers["location"] == f"/c/{contest.slug}#steps-feedback"
        page = await _page(player, contest)
    [message] = _feedback(page)
    assert message in page.by_id("steps").walk() and message.attrs["role"] == "alert"
    [consent] = page.find("input", name="consent")
    assert consent.attrs["aria-describedby"] == message.attrs["id"]


@pytest.mark.parametrize(
    ("language", "none", "one", "two"),
    [
        ("en", "0 people take part", "1 person takes part", "2 people take part"),
        ("es", "0 personas participan", "1 persona participa", "2 personas participan"),
    ],
)
async def test_the_page_says_how_many_take_part(
    app: Any, language: str, none: str, one: str, two: str
) -> None:
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language=language) as visitor:
        counts = [(await _page(visitor, contest)).find(data_testid="participants")[0].text]
        for _ in range(2):
            await entrant(contest)
            counts.append((await _page(visitor, contest)).find(data_testid="participants")[0].text)
    assert counts == [none, one, two]
    assert (await Contest.get(id=contest.id)).entry_count == 2


@pytest.mark.parametrize(
    ("language", "start", "after_code"),
    [
        (
            "en",
            "0 of 2 steps done · 0 points · 1 chance in the draw",
            "1 of 2 steps done · 3 points · 4 chances in the draw",
        ),
        (
            "es",
            "0 de 2 pasos hechos · 0 puntos · 1 oportunidad en el sorteo",
            "1 de 2 pasos hechos · 3 puntos · 4 oportunidades en el sorteo",
        ),
    ],
)
async def test_progress_uses_each_numbers_plural_form(
    app: Any, worker: Any, mailbox: Mailbox, language: str, start: str, after_code: str
) -> None:
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language=language) as player:
        entry = await enter_on_the_web(player, mailbox, contest)
        before = (await _page(player, contest)).find(data_testid="progress")[0].text
        await entries.record_completion(
            entry, await step_of(contest, "code"), utcnow(), links=LINKS
        )
        after = (await _page(player, contest)).find(data_testid="progress")[0].text
        account = parse((await player.get("/me")).text).text
    assert (before, after) == (start, after_code)
    assert after_code in account


async def test_the_next_clue_is_the_first_step_left_to_do(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest = await live_contest((await brand_with_marketer())[0])
    visit, code = await step_of(contest, "visit"), await step_of(contest, "code")
    async with browser(app, language="en") as player:
        entry = await enter_on_the_web(player, mailbox, contest)
        [first] = (await _page(player, contest)).find(data_testid="next-clue")
        await entries.record_completion(entry, visit, utcnow(), links=LINKS)
        [then] = (await _page(player, contest)).find(data_testid="next-clue")
        await entries.record_completion(entry, code, utcnow(), links=LINKS)
        left = (await _page(player, contest)).find(data_testid="next-clue")
    assert (
        visit.clue in first.text and first.find("a")[0].attrs["href"] == f"#step-{visit.public_id}"
    )
    assert code.clue in then.text and then.find("a")[0].attrs["href"] == f"#step-{code.public_id}"
    assert left == []


@pytest.mark.parametrize(
    ("language", "zone_name"), [("en", "Spain (Madrid) Time"), ("es", "hora de España (Madrid)")]
)
async def test_dates_are_times_in_the_contests_zone_with_the_zone_named(
    app: Any, language: str, zone_name: str
) -> None:
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language=language) as visitor:
        page = await _page(visitor, contest)
    [ends] = page.find("time")
    # The instant itself, for the page's script to write in the reader's own zone.
    assert ends.attrs["datetime"] == contest.ends_at.isoformat(timespec="seconds")
    assert ends.attrs["data-zone"] == "Europe/Madrid"
    assert ends.text.endswith(zone_name)
