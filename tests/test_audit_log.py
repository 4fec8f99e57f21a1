"""The audit log in the console: actions in the reader's language, who, what changed,
times in the marketer's own zone, filters and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contests import audit
from contests.clock import utcnow
from contests.models import AuditLog, Brand, Marketer
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    brand_and_marketer_address,
    browser,
    csrf,
    live_contest,
    page_text,
    sign_in,
)


async def test_the_log_names_actions_in_the_readers_language_and_shows_what_changed(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    await audit.record(
        actor=address,
        action="brand.domains",
        brand=brand,
        now=datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        before=["old.example.com"],
        after=["new.example.com"],
    )
    async with browser(app, language="es") as console:
        await sign_in(console, mailbox, address)
        text = page_text(await console.get(f"/console/{brand.slug}/audit"))
    assert "Dominios del sitio cambiados" in text
    assert ">brand.domains<" not in text
    assert "old.example.com → new.example.com" in text
    # Madrid is two hours ahead of UTC in July.
    assert "12:00" in text


async def test_a_marketer_reads_times_in_the_zone_they_choose(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    await audit.record(
        actor=address, action="brand.look", brand=brand, now=datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    )
    async with browser(app, language="en") as console:
        await sign_in(console, mailbox, address)
        path = f"/console/{brand.slug}/audit"
        token = await csrf(console, path)
        saved = await console.post(
            f"/console/{brand.slug}/time-zone",
            data={"csrf_token": token, "time_zone": "America/New_York"},
        )
        text = await after_redirect(console, saved)
        assert "Times are now shown in America/New_York." in text
        assert "05:00" in text and "Logo or colour changed" in text
        refused = await console.post(
            f"/console/{brand.slug}/time-zone",
            data={"csrf_token": token, "time_zone": "Mars/Olympus"},
        )
        assert "is not a time zone" in await after_redirect(console, refused)
    marketer = await Marketer.get(brand=brand, email=address)
    assert marketer.time_zone == "America/New_York"


async def test_the_log_filters_by_action_who_and_contest_and_pages_back(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    start = utcnow() - timedelta(days=1)
    for number in range(audit.PAGE_SIZE + 5):
        await audit.record(
            actor="someone@example.com",
            action="step.moved",
            brand=brand,
            target=contest.slug,
            now=start + timedelta(minutes=number),
            step=f"S{number}",
        )
    async with browser(app, language="en") as console:
        await sign_in(console, mailbox, address)
        base = f"/console/{brand.slug}/audit"
        first = page_text(await console.get(f"{base}?action=step.moved&contest={contest.slug}"))
        assert first.count("Step moved") == audit.PAGE_SIZE + 1  # the rows and the option
        assert "S54" in first and "S4<" not in first
        oldest_shown = await _oldest_id(brand, audit.PAGE_SIZE)
        second = page_text(
            await console.get(
                f"{base}?action=step.moved&contest={contest.slug}&before={oldest_shown}"
            )
        )
        assert "S4" in second and "S54" not in second
        published = page_text(await console.get(f"{base}?action=contest.published"))
        assert "Contest published" in published and "S54" not in published
        nobody = page_text(await console.get(f"{base}?actor=nobody@example.com"))
        assert "Nothing here." in nobody


async def _oldest_id(brand: Brand, rows: int) -> int:
    page = await AuditLog.filter(brand=brand, action="step.moved").order_by("-id").limit(rows)
    return page[-1].id
