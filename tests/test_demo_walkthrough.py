"""The demo's walkthrough, clicked through in a real browser (Debian's chromium) against
`gymkana demo` itself: its seeding, its web app, its worker, its brand site and its demo
mailbox, on its own SQLite database.

Four people enter by following the links a newcomer follows; the marketer closes the
contest from the console; the frozen list and its digest are public before the draw,
which then runs on the demo beacon's named round; the certificate and the chain log,
downloaded from the draw page, pass the real `gymkana verify` command; a winner claims
through the link in their email; the marketer disqualifies another winner and the
alternate takes the prize over, told by an email of their own.

The only address typed is the participant site's, printed by `gymkana demo`: every other
page is reached by a link, as a newcomer reaches it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.gymkana import chromium, running_demo
from tests.test_browser import CHROMIUM

pytestmark = pytest.mark.browser

PEOPLE = ("ana", "bea", "carla", "dani")
MARKETER = "marketer@demo.gymkana.test"
# The contest is written in Spanish first: the console and the brand's Spanish pages
# name it so, while participants reading English see its English title.
CONTEST = "La ruta del café"
CONTEST_EN = "The coffee trail"
# The demo beacon's round is named half a minute after the close; the worker's clock
# then draws within a tick or two.
DRAW_SECONDS = 120
GYMKANA = Path(sys.executable).with_name("gymkana")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[dict[str, str]]:
    with running_demo(tmp_path_factory.mktemp("walkthrough-demo"), redis_url) as servers:
        yield servers


def _address(person: str) -> str:
    return f"{person}@example.com"


async def _open_mail(page: Page, address: str, subject: str) -> None:
    """From any page, through the header's link to the demo mailbox, open the newest
    message to `address` whose subject contains `subject` (waiting for the worker)."""
    await page.get_by_test_id("demo-mailbox-link").click()
    row = page.locator("main tr", has_text=address).filter(has_text=subject).first
    for _ in range(300):
        if await row.count():
            break
        await asyncio.sleep(0.1)
        await page.reload()
    await row.get_by_role("link").click()


async def _sign_in(page: Page, address: str) -> None:
    """On the sign-in page: ask for a link, open it from the demo mailbox, confirm."""
    await page.fill("#email", address)
    await page.click("main form button[type=submit]")
    await _open_mail(page, address, "sign-in link")
    await page.locator("main a[href*='/auth/email/']").click()
    await page.get_by_role("button", name="Sign in").click()


async def _enter(chrome: Browser, base: str, person: str) -> tuple[BrowserContext, Page]:
    """A newcomer from the participant site to the draw: both required steps done."""
    context = await chrome.new_context(locale="en-GB")
    page = await context.new_page()
    await page.goto(base)
    await page.get_by_role("link", name=CONTEST_EN).click()
    await page.get_by_role("link", name="Sign in to take part").click()
    await _sign_in(page, _address(person))
    await expect(page.locator("h1")).to_have_text(CONTEST_EN)
    await page.check("input[name=consent]")
    await page.get_by_role("button", name="Take part").click()

    # The first visit step: five seconds on the brand's origin page, counted by the worker.
    await page.locator("[data-testid=visit-link]").first.click()
    overlay = page.locator("[data-gymkana=overlay]")
    await overlay.wait_for()
    await page.wait_for_selector("[data-gymkana=overlay][data-gymkana-state=counted]")
    # The code is on the brand's menu page, one link away; the brand's home page leads
    # back to its contest.
    await page.get_by_role("link", name="Carta", exact=True).click()
    code = (await page.locator("main code", has_text="AURORA").inner_text()).strip()
    await page.locator("header a.brand").click()
    await page.get_by_role("link", name=f"Participa en {CONTEST}").click()
    await page.get_by_label("The code you found").fill(code)
    await page.get_by_role("button", name="Check the code").click()
    await expect(page.locator("main")).to_contain_text("you are in the draw")
    return context, page


async def _draw_id(page: Page) -> str:
    text = await page.locator("main").inner_text()
    found = re.search(r"Your pseudonymous id in the draw: (\S+)", text)
    assert found, "the contest page shows the participant's draw id"
    return found.group(1)


async def _download(page: Page, link_name: str, folder: Path) -> Path:
    async with page.expect_download() as started:
        await page.get_by_role("link", name=link_name).first.click()
    download = await started.value
    path = folder / download.suggested_filename
    await download.save_as(path)
    return path


async def test_a_newcomer_walks_the_demo_from_entry_to_a_promoted_alternate(
    demo: dict[str, str], tmp_path: Path
) -> None:
    base = demo["base"]
    async with chromium(CHROMIUM) as chrome:
        people: dict[str, tuple[BrowserContext, Page]] = {}
        draw_ids: dict[str, str] = {}
        for person in PEOPLE:
            people[person] = await _enter(chrome, base, person)
            draw_ids[person] = await _draw_id(people[person][1])

        # The marketer closes the contest from the console.
        marketer = await (await chrome.new_context(locale="en-GB")).new_page()
        await marketer.goto(base)
        await marketer.locator("header").get_by_role("link", name="Sign in").click()
        await _sign_in(marketer, MARKETER)
        await marketer.locator("header").get_by_role("link", name="Console").click()
        await marketer.get_by_role("link", name=CONTEST).first.click()
        await marketer.get_by_label(re.compile("I understand that closing")).check()
        await marketer.get_by_role("button", name="Close now and draw").click()
        await expect(marketer.locator("main")).to_contain_text("The list is frozen")

        # Anyone, signed out, sees the frozen list and its digest before the draw.
        visitor = await (await chrome.new_context(locale="en-GB")).new_page()
        await visitor.goto(base)
        await visitor.get_by_role("link", name=CONTEST_EN).click()
        await visitor.get_by_role("link", name="How the draw works, and its certificate").click()
        await expect(visitor.get_by_test_id("beacon-waiting")).to_be_visible()
        await expect(visitor.locator("#certificate-title")).to_have_count(0)
        await expect(visitor.locator("main")).to_contain_text("the demo's own beacon")
        round_number = int(await visitor.get_by_test_id("beacon-round").inner_text())
        digest = (await visitor.locator("#list-digest").inner_text()).strip()
        frozen = await _download(visitor, "Download the frozen list", tmp_path)
        assert hashlib.sha256(frozen.read_bytes()).hexdigest() == digest
        assert all(draw_id in frozen.read_text() for draw_id in draw_ids.values())
        # The console leads to the same public page.
        await marketer.get_by_role("link", name=re.compile("The public draw page")).click()
        assert (await marketer.locator("#list-digest").inner_text()).strip() == digest

        # The draw runs on the named round of the demo beacon, with the list published.
        for _ in range(DRAW_SECONDS):
            await visitor.reload()
            if await visitor.locator("#certificate-title").count():
                break
            await asyncio.sleep(1)
        await expect(visitor.locator("#certificate-title")).to_be_visible()
        certificate = json.loads(await visitor.locator("pre.certificate").inner_text())
        assert certificate["beacon"]["source"] == "demo"
        assert certificate["beacon"]["round"] == round_number
        assert certificate["list_digest"] == digest
        assert sorted(certificate["order"]) == sorted(draw_ids.values())

        # The certificate and the chain log pass the command the page shows.
        draw_json = await _download(visitor, "Download the certificate", tmp_path)
        chain_txt = await _download(visitor, "Download the entry chain log", tmp_path)
        command = (await visitor.get_by_test_id("verify-command").inner_text()).split()
        assert command == ["gymkana", "verify", draw_json.name, "--chain", chain_txt.name]
        verified = subprocess.run(
            [str(GYMKANA), *command[1:]], cwd=tmp_path, capture_output=True, text=True
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "The draw is verified" in verified.stdout
        assert f"beacon round {round_number} signature valid" in verified.stdout
        assert "demo's own beacon" in verified.stdout

        by_id = {draw_id: person for person, draw_id in draw_ids.items()}
        first, second, third, alternate = (by_id[i] for i in certificate["order"])

        # The first winner claims through the link in their email.
        page = people[first][1]
        await _open_mail(page, _address(first), "you won")
        await page.locator("main a[href*='/claim/']").click()
        await page.get_by_label("Postal address").fill("Calle Mayor 1, Madrid")
        await page.get_by_label("Phone number").fill("+34 600 000 000")
        await page.get_by_role("button", name="Claim my prize").click()
        await expect(page.locator("main")).to_contain_text("your prize is claimed")

        # The marketer disqualifies the second winner; the alternate takes the prize over.
        await marketer.locator("header").get_by_role("link", name="Console").click()
        await marketer.get_by_role("link", name=CONTEST).first.click()
        await marketer.get_by_role("link", name="Winners and claims").click()
        await expect(marketer.locator("tr[data-rank='1']")).to_contain_text("claimed")
        await expect(marketer.locator("tr[data-rank='4']")).to_contain_text("alternate")
        row = marketer.locator("tr[data-rank='2']")
        await expect(row).to_contain_text(draw_ids[second])
        await row.get_by_role("link", name=re.compile("Disqualify")).click()
        await marketer.fill("#reason", "Entered with two accounts")
        await marketer.get_by_role("button", name="Yes, disqualify").click()
        await expect(marketer.locator("main")).to_contain_text("is disqualified")
        await expect(row.get_by_test_id("state")).to_contain_text("replaced")
        promoted = marketer.locator("tr[data-rank='4']")
        await expect(promoted).to_contain_text("Cata para dos")
        await expect(promoted.get_by_test_id("state")).to_contain_text("notified")

        # The alternate is told by email, and its link opens their claim.
        page = people[alternate][1]
        await _open_mail(page, _address(alternate), "has come to you")
        await page.locator("main a[href*='/claim/']").click()
        await expect(page.get_by_test_id("claim-state")).to_contain_text(
            "Waiting for you to claim it"
        )
        assert third != alternate
