"""A real browser (Debian's chromium) on a phone: a winner claims their prize by
keyboard; a marketer disqualifies another winner after confirming, and the alternate
who takes the prize over opens the link in their email and claims it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from contests import claims, closing
from contests.clock import utcnow
from contests.models import Contest, Outbox, OutboxStatus, Winner, WinnerStatus
from contests.settings import Settings
from contests.tokens import Tokens
from tests.conftest import SECRET, Mailbox, eventually
from tests.factories import (
    LINKS,
    brand_with_marketer,
    browser,
    entrant,
    live_contest,
    sign_in,
)
from tests.support.gymkana import chromium
from tests.support.servers import asgi_server_in_loop
from tests.test_browser import CHROMIUM

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 360, "height": 740}
SESSION_COOKIE = "gymkana"


def _address(winner: Winner) -> str:
    participant = winner.entry.participant
    assert participant is not None and participant.email
    return participant.email


async def _session_of(app: Any, mailbox: Mailbox, address: str) -> str:
    async with browser(app, language="en") as client:
        await sign_in(client, mailbox, address)
        return client.cookies[SESSION_COOKIE]


@asynccontextmanager
async def _phone(chrome: Browser, base: str, session: str) -> AsyncIterator[Page]:
    context = await chrome.new_context(locale="en-GB", viewport=PHONE)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": base}])
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _settled(addresses: list[str]) -> None:
    async def done() -> bool:
        return not await Outbox.filter(
            to_email__in=addresses, status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]
        ).exists()

    await eventually(done, timeout=20)


async def _claim_by_keyboard(page: Page, address: str, size: str) -> None:
    """Fill the claim form and send it with the keyboard alone."""
    await page.locator("#claim-postal_address").focus()
    await page.keyboard.type(address)
    await page.keyboard.press("Tab")
    await page.keyboard.type(size)
    await page.keyboard.press("Tab")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def test_a_winner_claims_and_an_alternate_claims_a_disqualified_winners_prize(
    app: Any, settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    if settings.database_url.startswith("postgres"):
        pytest.skip("the browser sees the same pages on either database; checked on SQLite")
    brand, marketer = await brand_with_marketer()
    contest = await live_contest(brand, prizes=2)
    await Contest.filter(id=contest.id).update(alternates=1)
    await claims.set_claim_form(
        contest, days=7, fields=["postal_address", "size"], actor="test", now=utcnow()
    )
    for number in range(3):
        await entrant(contest, name=f"Person {number}", locale="en", complete=True)
    await closing.close(contest.id, utcnow())
    await closing.run_draw(contest.id, utcnow(), links=LINKS)
    await claims.tell_due(utcnow(), links=LINKS, tokens=Tokens(SECRET))
    first, second, alternate = (
        await Winner.filter(contest=contest).select_related("entry__participant").order_by("rank")
    )
    addresses = [_address(w) for w in (first, second, alternate)]
    await _settled(addresses)
    sessions = [await _session_of(app, mailbox, a) for a in addresses]
    marketer_session = await _session_of(app, mailbox, marketer.email)

    async with asgi_server_in_loop(app) as base:
        chrome_context = chromium(CHROMIUM)
        async with chrome_context as chrome:
            # The first winner: from the contest page to the claim form, by keyboard.
            async with _phone(chrome, base, sessions[0]) as page:
                await page.goto(f"{base}/c/{contest.slug}")
                await expect(page.get_by_test_id("my-win")).to_contain_text("You won")
                await page.get_by_role("link", name="Claim my prize").click()
                await expect(page.get_by_test_id("claim-deadline")).to_be_visible()
                await _claim_by_keyboard(page, "Calle Mayor 1, Madrid", "M")
                await expect(page.locator("main")).to_contain_text("your prize is claimed")
                await expect(page.get_by_test_id("claim-state")).to_contain_text("Claimed on")

            # The marketer disqualifies the second winner, confirming first.
            async with _phone(chrome, base, marketer_session) as page:
                winners = f"{base}/console/{brand.slug}/contests/{contest.id}/winners"
                await page.goto(winners)
                row = page.locator(f"tr[data-rank='{second.rank}']")
                await row.get_by_role("link", name=re.compile("Disqualify")).click()
                await expect(page.locator("h1")).to_contain_text(
                    f"Disqualify winner {second.rank}?"
                )
                await page.fill("#reason", "Entered with two accounts")
                await page.get_by_role("button", name="Yes, disqualify").click()
                await expect(page.locator("main")).to_contain_text("is disqualified")
                await expect(row.get_by_test_id("state")).to_contain_text("replaced")
                claimed_row = page.locator(f"tr[data-rank='{first.rank}']")
                await expect(claimed_row).to_contain_text("Calle Mayor 1, Madrid")

            # The alternate is told by email, and claims through its link.
            async def promoted_mail() -> list[Any]:
                return [
                    m for m in mailbox.to(addresses[2]) if "has come to you" in str(m["Subject"])
                ]

            [message] = await eventually(promoted_mail, timeout=20)
            link = re.search(r"http://testserver(/claim/\S+)", Mailbox.text(message))
            assert link is not None
            async with _phone(chrome, base, sessions[2]) as page:
                await page.goto(base + link.group(1))
                await expect(page.get_by_test_id("claim-state")).to_contain_text(
                    "Waiting for you to claim it"
                )
                await _claim_by_keyboard(page, "Rúa Nova 5, Santiago", "L")
                await expect(page.get_by_test_id("claim-state")).to_contain_text("Claimed on")

    states = [w.status for w in await Winner.filter(contest=contest).order_by("rank")]
    assert states == [WinnerStatus.CLAIMED, WinnerStatus.DISQUALIFIED, WinnerStatus.CLAIMED]
    promoted = await Winner.get(id=alternate.id)
    assert promoted.prize_id == second.prize_id  # type: ignore[attr-defined]
    assert promoted.claim_data == {"postal_address": "Rúa Nova 5, Santiago", "size": "L"}
