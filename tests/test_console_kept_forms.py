"""A prize or step form the console refuses comes back open, with what the marketer
typed in it and the reason, instead of an empty form."""

from __future__ import annotations

from typing import Any

import httpx

from contests.models import Brand, Contest, Prize, Step
from tests.conftest import Mailbox
from tests.factories import (
    brand_and_marketer_address,
    csrf,
    draft_contest,
    live_contest,
    marketer_console,
    page_text,
    step_of,
)


def _path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}"


def _form(html: str, form_id: str) -> str:
    """The form with that id as the page shows it, from the box it is folded in (if
    any), which says whether it is open."""
    at = html.index(f'id="{form_id}"')
    start = html.rindex("<form ", 0, at)
    box = html.rfind("<details", 0, start)
    if box != -1 and "</details>" not in html[box:start]:
        start = box
    return html[start : html.index("</form>", at)]


async def _send(
    console: httpx.AsyncClient, brand: Brand, contest: Contest, action: str, **data: Any
) -> httpx.Response:
    page = _path(brand, contest)
    return await console.post(
        f"{page}/{action}", data={"csrf_token": await csrf(console, page), **data}
    )


async def test_a_refused_new_prize_keeps_what_was_typed(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await draft_contest(brand)
    async with marketer_console(app, mailbox, address) as console:
        refused = await _send(
            console,
            brand,
            contest,
            "prizes",
            name="Un café <con leche>",
            description="Cada mañana",
            quantity="0",
            name_en="A coffee",
            description_en="Every morning",
        )
    assert refused.status_code == 422
    assert "A prize's quantity must be between 1 and 1000." in page_text(refused)
    assert 'href="#add-prize-form"' in refused.text
    # As typed, and escaped as any text on the page.
    form = _form(refused.text, "add-prize-form")
    for value in ("Un café &lt;con leche&gt;", "Cada mañana", "0", "A coffee", "Every morning"):
        assert f'value="{value}"' in form, value
    assert not await Prize.filter(contest=contest).exists()


async def test_a_refused_new_step_comes_back_open_with_its_own_fields(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await draft_contest(brand)
    async with marketer_console(app, mailbox, address) as console:
        refused = await _send(
            console,
            brand,
            contest,
            "steps",
            kind="quiz",
            title="Roasting day",
            clue="Read our blog",
            points="4",
            question="Which day do we roast?",
            answer_mode="choices",
            choice_1="Monday",
            choice_2="Friday",
            max_attempts="2",
        )
        fresh = page_text(await console.get(_path(brand, contest)))
    assert refused.status_code == 422
    html = page_text(refused)
    assert "Mark the right choice." in html
    form = _form(html, "add-quiz-form")
    assert form.startswith('<details class="card add-step" data-kind="quiz" open>')
    for value in ("Roasting day", "4", "Which day do we roast?", "Monday", "Friday", "2"):
        assert f'value="{value}"' in form, value
    assert ">Read our blog</textarea>" in form
    # Not ticked when sent, not ticked now; the other kinds' forms stay closed and empty.
    assert 'name="required" value="on">' in form
    assert 'name="answer_mode" value="choices" checked>' in form
    assert 'data-kind="visit" open' not in html
    assert 'value="Roasting day"' not in _form(html, "add-code-form")
    # The page read afresh starts empty again.
    assert 'value="Roasting day"' not in fresh
    assert not await Step.filter(contest=contest).exists()


async def test_refused_changes_to_a_step_or_a_prize_keep_what_was_typed(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    visit = await step_of(contest, "visit")
    prize = await Prize.get(contest=contest)
    async with marketer_console(app, mailbox, address) as console:
        off_site = await _send(
            console,
            brand,
            contest,
            f"steps/{visit.id}/settings",
            title="Our farms",
            clue="Where the beans grow",
            points="5",
            target_url="https://elsewhere.example/farms",
            dwell_seconds="7",
            pages="section",
            proof="click",
        )
        more = await _send(
            console, brand, contest, f"prizes/{prize.id}", name="Coffee for two", quantity="9"
        )
    assert off_site.status_code == 422
    html = page_text(off_site)
    assert "must lead to a page of the brand" in html
    form = _form(html, f"step-{visit.id}-form")
    assert 'data-testid="step-settings" open>' in form
    for value in ("Our farms", "5", "https://elsewhere.example/farms", "7"):
        assert f'value="{value}"' in form, value
    assert '<option value="section" selected>' in form
    assert 'name="proof" value="click" checked>' in form
    assert (await Step.get(id=visit.id)).title == "Visit our origins page"

    assert more.status_code == 409
    kept = _form(page_text(more), f"prize-{prize.id}-form")
    assert 'value="Coffee for two"' in kept
    assert "quantity can no longer change" in page_text(more)
    assert (await Prize.get(id=prize.id)).name == "Coffee for a year"
