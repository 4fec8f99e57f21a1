"""The dashboard: entrants per day on the contest's calendar, the step funnel, sources,
referrals and flags, as aggregate queries (their number does not grow with the entries)
and as SVG charts without script, with the same numbers in tables."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contests import dashboard, entries, signals
from contests.clock import utcnow
from contests.models import Contest, Entry, FraudFlag, Step
from contests.referrals import Arrival
from contests.signals import Reason
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    brand_and_marketer_address,
    brand_with_marketer,
    entrant,
    live_contest,
    marketer_console,
    page_text,
    participant,
    step_of,
)
from tests.support.queries import counting_queries


async def _campaign() -> tuple[Contest, list[Entry]]:
    """Four entrants: one did every step, one the visit only, one nothing, and one came
    through the first one's referral link and is flagged."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    done = await entrant(contest, name="Ana", complete=True)
    halfway = await entrant(contest, name="Luis")
    await entries.record_completion(halfway, await step_of(contest, "visit"), utcnow(), links=LINKS)
    idle = await entrant(contest, name="Bea")
    person = await participant(name="Carla")
    referred = await entries.enter(
        contest,
        person,
        consented=True,
        locale="es",
        now=utcnow(),
        arrival=Arrival(code=done.referral_code),
    )
    await signals.flag(referred, Reason.DISPOSABLE_EMAIL, utcnow(), domain="mailinator.com")
    return contest, [done, halfway, idle, referred]


async def test_the_funnel_counts_each_step_and_those_who_did_every_required_one(
    database_url: str,
) -> None:
    contest, _ = await _campaign()
    figures = await dashboard.figures(contest, now=utcnow())
    assert figures.entered == 4
    assert [(s.step.kind if s.step else None, s.count) for s in figures.funnel] == [
        (None, 4),
        ("visit", 2),
        ("code", 1),
        (None, 1),
    ]
    assert figures.funnel[-1].every_required
    assert (figures.directly, figures.through_referral) == (3, 1)
    flagged = await FraudFlag.filter(contest=contest).values_list("entry_id", "reason")
    assert figures.flags["disposable_email"] == 1
    assert sum(figures.flags.values()) == len(flagged)
    assert figures.waiting_review == len({entry_id for entry_id, _ in flagged})


async def test_entrants_are_counted_on_the_contests_own_calendar_days(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    await Contest.filter(id=contest.id).update(timezone="America/Mexico_City")
    contest = await Contest.get(id=contest.id)
    zone = ZoneInfo("America/Mexico_City")
    today = utcnow().astimezone(zone).date()
    two_days_ago = today - timedelta(days=2)
    # 23:30 in Mexico City is the next day in UTC: the entry belongs to the local day.
    late_evening = datetime(
        two_days_ago.year, two_days_ago.month, two_days_ago.day, 23, 30, tzinfo=zone
    )
    for _ in range(3):
        entry = await entrant(contest)
        await Entry.filter(id=entry.id).update(created_at=late_evening)
    await entrant(contest)
    await Contest.filter(id=contest.id).update(starts_at=late_evening - timedelta(hours=1))
    contest = await Contest.get(id=contest.id)
    per_day = await dashboard.entrants_per_day(contest, now=utcnow())
    assert per_day == [
        (two_days_ago, 3),
        (two_days_ago + timedelta(days=1), 0),
        (today, 1),
    ]


async def test_the_dashboard_reads_as_many_queries_for_many_entrants_as_for_few(
    database_url: str,
) -> None:
    contest, _ = await _campaign()
    with counting_queries() as few:
        await dashboard.figures(contest, now=utcnow())
    for _ in range(6):
        await entrant(contest, complete=True)
    with counting_queries() as many:
        grown = await dashboard.figures(contest, now=utcnow())
    assert grown.entered == 10 and grown.funnel[-1].count == 7
    assert many.count == few.count


def _svg(page: str, figure: str) -> str:
    match = re.search(
        rf'<figure class="chart" id="{figure}".*?src="data:image/svg\+xml;base64,([^"]+)"',
        page,
        re.S,
    )
    assert match, f"no {figure} chart"
    return base64.b64decode(match.group(1)).decode()


def _table(page: str, name: str) -> list[tuple[str, str]]:
    match = re.search(rf'data-testid="{name}-table">(.*?)</table>', page, re.S)
    assert match, f"no {name} table"
    return re.findall(r'<th scope="row">(.*?)</th><td class="num">(\d+)</td>', match.group(1))


async def test_the_marketer_sees_charts_without_script_and_the_same_numbers_in_tables(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    await entrant(contest, complete=True)
    await entrant(contest)
    async with marketer_console(app, mailbox, address) as console:
        response = await console.get(f"/console/{brand.slug}/contests/{contest.id}/dashboard")
    assert response.status_code == 200
    text = page_text(response)
    steps = await Step.filter(contest=contest).order_by("position", "id")
    assert _table(text, "funnel") == [
        ("Entered the contest", "2"),
        (steps[0].title, "1"),
        (steps[1].title, "1"),
        ("Every required step done", "1"),
    ]
    assert _table(text, "sources") == [
        ("Came directly", "2"),
        ("Came through a referral link", "0"),
    ]
    assert sum(int(n) for _, n in _table(text, "per-day")) == 2
    for figure in ("per-day", "funnel", "sources"):
        drawn = _svg(response.text, figure)
        assert drawn.startswith("<svg") and "<script" not in drawn
    funnel = _svg(response.text, "funnel")
    assert "Every required step done" in funnel and steps[0].title in funnel
    assert "No entry is flagged." in text


async def test_another_brands_marketer_sees_no_dashboard(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    theirs, _ = await brand_with_marketer()
    contest = await live_contest(theirs)
    mine, address = await brand_and_marketer_address()
    async with marketer_console(app, mailbox, address) as console:
        for brand in (theirs, mine):
            response = await console.get(f"/console/{brand.slug}/contests/{contest.id}/dashboard")
            assert response.status_code == 404
            assert contest.title not in response.text
