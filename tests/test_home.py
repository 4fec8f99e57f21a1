"""The home page lists what a participant can join now, what is coming and what ended."""

from __future__ import annotations

from datetime import timedelta

import httpx

from contests import closing
from contests.clock import utcnow
from contests.models import Contest, ContestStatus
from tests.factories import brand_with_marketer, live_contest


def _section(page: str, heading: str) -> str:
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start : end if end != -1 else len(page)]


async def test_the_home_page_sorts_contests_by_what_you_can_do_with_them(
    client: httpx.AsyncClient,
) -> None:
    brand, _ = await brand_with_marketer()
    running = await live_contest(brand)
    upcoming = await live_contest(brand)
    await Contest.filter(id=upcoming.id).update(
        status=ContestStatus.SCHEDULED, starts_at=utcnow() + timedelta(days=1)
    )
    ended = await live_contest(brand)
    await closing.close(ended.id, utcnow())

    page = (await client.get("/", headers={"Accept-Language": "en"})).text
    assert running.title in _section(page, "Open now")
    assert upcoming.title in _section(page, "Coming soon")
    assert ended.title in _section(page, "Finished")
    assert ended.title not in _section(page, "Open now")
