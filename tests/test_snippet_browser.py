"""The snippet in a real browser (Debian's chromium through Playwright) on the demo
brand's pages, served with the strict Content-Security-Policy a careful brand sends:
the overlay appears, its time bar follows the real time on the page, it says when the
worker has counted the visit, it follows the participant to the next pages of the visit,
fits a phone, closes by keyboard, and does nothing anywhere else."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from contests import authoring, brands, lifecycle
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.models import Completion, Entry, Evidence, EvidenceStatus, Step
from contests.steps.visit import visit_link_token
from contests.tokens import Tokens
from tests.conftest import eventually
from tests.factories import entrant, unique
from tests.support.axe import axe_script, violations
from tests.support.gymkana import chromium
from tests.support.servers import asgi_server_in_loop
from web.demo import brand_site

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DWELL = 3
OVERLAY = "[data-gymkana=overlay]"
# How much of the time bar is filled, as drawn.
DRAWN = "bar => bar.firstChild.getBoundingClientRect().width / bar.getBoundingClientRect().width"
# Every policy violation the page reports, and the console's word on any.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
}, true);
"""


@dataclass(frozen=True)
class Sites:
    app: str  # the app, where the snippet comes from
    brand: str  # the brand's site, on another origin
    tokens: Tokens  # the app's, to make step links


@pytest.fixture(scope="module")
async def sites(app: Any) -> AsyncIterator[Sites]:
    async with (
        asgi_server_in_loop(app) as app_url,
        asgi_server_in_loop(brand_site(app_url)) as site_url,
    ):
        brand = site_url.replace("127.0.0.1", "localhost")
        yield Sites(app=app_url, brand=brand, tokens=app.state.gymkana.tokens)


@pytest.fixture(scope="module")
async def chrome() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


async def _playing(
    sites: Sites, *, locale: str = "en", proof: str = "snippet"
) -> tuple[Entry, Step]:
    """An entry in a live contest of the demo brand: a visit to its origin page, a code."""
    now = utcnow()
    brand = await brands.create_brand(
        name=unique("Aurora"), domains=["localhost"], reply_to="hola@aurora.example", now=now
    )
    contest = await authoring.create_contest(
        brand,
        ContestDraft(
            title="The coffee route",
            description="",
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(days=1),
        ),
        actor="test",
        now=now,
    )
    await authoring.add_prize(
        contest, name="Coffee", description="", quantity=1, actor="test", now=now
    )
    step = await authoring.add_step(
        contest,
        StepDraft(
            kind="visit",
            title="Where our coffee comes from",
            settings={
                "target_url": f"{sites.brand}/en/origin.html",
                "dwell_seconds": DWELL,
                "proof": proof,
            },
        ),
        actor="test",
        now=now,
    )
    await authoring.add_step(
        contest,
        StepDraft(kind="code", title="The menu's code", settings={"code": "AURORA"}),
        actor="test",
        now=now,
    )
    await lifecycle.publish(contest, actor="test", now=now)
    return await entrant(contest, locale=locale), step


async def _watched(context: BrowserContext) -> tuple[Page, list[str]]:
    page = await context.new_page()
    await page.add_init_script(WATCH_POLICY)
    said: list[str] = []
    page.on(
        "console",
        lambda m: (
            said.append(m.text)
            if "Content Security Policy" in m.text or "Trusted Type" in m.text
            else None
        ),
    )
    return page, said


async def _follow_step_link(page: Page, sites: Sites, entry: Entry, step: Step) -> None:
    response = await page.goto(f"{sites.app}/go/{visit_link_token(sites.tokens, entry, step)}")
    assert response is not None and page.url.startswith(f"{sites.brand}/en/origin.html")
    policy = response.headers["content-security-policy"]
    assert "style-src 'self';" in policy and "unsafe" not in policy
    # The snippet takes its token out of the address bar.
    assert "gk=" not in page.url


async def _state(page: Page) -> str | None:
    return await page.locator(OVERLAY).get_attribute("data-gymkana-state")


async def _violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.__violations")
    return found


async def test_the_overlay_times_the_visit_and_says_when_it_counted_under_a_strict_policy(
    sites: Sites, chrome: Browser, worker: Any
) -> None:
    entry, step = await _playing(sites)
    context = await chrome.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page, said = await _watched(context)
    await _follow_step_link(page, sites, entry, step)
    overlay = page.locator(OVERLAY)
    await overlay.wait_for()
    loop = asyncio.get_running_loop()
    shown_at = loop.time()
    text = await overlay.inner_text()
    assert "Step 1 of 2 found!" in text and "Where our coffee comes from" in text
    assert "0 of 2 steps done" in text
    assert await overlay.get_attribute("lang") == "en"
    assert await overlay.get_attribute("aria-label") == "Your progress in The coffee route"
    status = page.locator(f"{OVERLAY} [role=status]")
    assert await status.get_attribute("aria-live") == "polite"
    assert await page.locator(f"{OVERLAY} button").get_attribute("aria-label") == "Close"

    # The time bar follows the time really spent on the page, neither full at once nor late.
    bar = page.locator(f"{OVERLAY} [role=progressbar]")
    assert await bar.get_attribute("aria-label") == "Time on this page"
    await expect(status).to_have_text("Stay on this page 3 seconds so it counts.")
    samples: list[tuple[float, int, float]] = []
    while await _state(page) == "waiting" and loop.time() - shown_at < DWELL + 5:
        value = int(await bar.get_attribute("aria-valuenow") or 0)
        drawn = await bar.evaluate(DRAWN)
        samples.append((loop.time() - shown_at, value, drawn))
        await asyncio.sleep(0.15)
    values = [value for _, value, _ in samples]
    assert values == sorted(values), samples
    early = [value for at, value, _ in samples if 0.8 <= at <= 1.2]
    assert early and all(15 <= value <= 65 for value in early), samples
    full = [at for at, value, _ in samples if value == 100]
    assert all(at >= DWELL - 0.5 for at in full), samples
    # What is drawn is what is said (within the quarter-second step of the bar).
    assert all(abs(drawn * 100 - value) <= 15 for _, value, drawn in samples if value < 100)

    # Reported, then verified by the worker: the overlay says it counted.
    await page.wait_for_selector(f"{OVERLAY}[data-gymkana-state=counted]", timeout=20_000)
    await expect(status).to_have_text("It counted! 1 of 2 steps done.")
    assert "1 of 2 steps done" in await overlay.inner_text()
    report = await Evidence.get(entry=entry)
    assert report.status is EvidenceStatus.VERIFIED
    assert await Completion.filter(entry=entry, step=step).exists()

    # Not one policy violation; and the watch does see one when there is one.
    assert await _violations(page) == [] and said == []
    await page.evaluate(
        "() => document.head.appendChild(document.createElement('style')).append('p{}')"
    )
    await eventually(lambda: _violations(page))
    assert any("style-src" in found for found in await _violations(page))
    await context.close()


async def test_the_next_pages_of_the_visit_show_the_progress_and_the_way_back(
    sites: Sites, chrome: Browser, worker: Any
) -> None:
    entry, step = await _playing(sites)
    context = await chrome.new_context(locale="en-GB")
    page, said = await _watched(context)
    await _follow_step_link(page, sites, entry, step)
    await page.locator(OVERLAY).wait_for()
    # Off to another page of the brand's site before the time is up.
    await page.click("nav >> text=Menu")
    await page.wait_for_selector(f"{OVERLAY}[data-gymkana-state=elsewhere]")
    await expect(page.locator(f"{OVERLAY} [role=status]")).to_have_text(
        "This visit counts on the step's own page."
    )
    assert not await Evidence.filter(entry=entry).exists()
    back = page.locator(f"{OVERLAY} >> text=Go to the step's page")
    assert await back.get_attribute("href") == f"{sites.brand}/en/origin.html"
    await back.click()
    await page.wait_for_selector(f"{OVERLAY}[data-gymkana-state=counted]", timeout=20_000)
    # The visit has said how it ended: the next page is left alone.
    await page.click("nav >> text=Shops")
    await page.wait_for_load_state("load")
    await asyncio.sleep(1)
    assert await page.locator("gymkana-progress").count() == 0
    assert await _violations(page) == [] and said == []
    await context.close()


async def test_on_a_phone_the_overlay_sits_above_the_page_and_closes_by_keyboard(
    sites: Sites, chrome: Browser, worker: Any
) -> None:
    entry, step = await _playing(sites, locale="es")
    context = await chrome.new_context(
        locale="es-ES", viewport={"width": 360, "height": 740}, reduced_motion="reduce"
    )
    page, said = await _watched(context)
    await _follow_step_link(page, sites, entry, step)
    overlay = page.locator(OVERLAY)
    await overlay.wait_for()
    assert "¡Has encontrado el paso 1 de 2!" in await overlay.inner_text()

    # It takes its own place at the top instead of covering the brand's content.
    box = await overlay.bounding_box()
    assert box is not None and box["y"] == 0 and box["width"] <= 360
    covered = await page.evaluate(
        """() => [...document.querySelectorAll("h1, header a, main p")].filter((node) => {
            const r = node.getBoundingClientRect();
            if (r.bottom < 0 || r.top > innerHeight) return false;
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return hit !== null && hit.closest("gymkana-progress") !== null;
        }).length"""
    )
    assert covered == 0
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    fill = page.locator(f"{OVERLAY} .fill")
    assert await fill.evaluate("node => getComputedStyle(node).transitionDuration") == "0s"

    # By keyboard alone: the close button is reached, visibly focused, and Escape closes.
    for _ in range(4):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "document.querySelector('gymkana-progress').shadowRoot.activeElement?.tagName"
        )
        if focused == "BUTTON":
            break
    assert focused == "BUTTON"
    close = page.locator(f"{OVERLAY} button")
    assert await close.get_attribute("aria-label") == "Cerrar"
    outline = await close.evaluate("node => getComputedStyle(node).outlineStyle")
    assert outline == "solid"
    await page.keyboard.press("Escape")
    assert await page.locator("gymkana-progress").count() == 0

    # Closed, the overlay stays closed on the next pages; the visit still counts.
    await eventually(lambda: Completion.filter(entry=entry, step=step).exists(), 20)
    await page.reload()
    await asyncio.sleep(1)
    assert await page.locator("gymkana-progress").count() == 0
    assert await _violations(page) == [] and said == []
    await context.close()


async def test_elsewhere_the_snippet_does_nothing(sites: Sites, chrome: Browser) -> None:
    context = await chrome.new_context()
    page, said = await _watched(context)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.startswith(sites.app) else None)
    await page.goto(f"{sites.brand}/en/origin.html")
    await page.goto(f"{sites.brand}/en/menu.html?gk=not-a-token")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("gymkana-progress").count() == 0
    # A token that is not good is forgotten: the next page asks nothing at all.
    await page.goto(f"{sites.brand}/en/shops.html")
    await page.wait_for_load_state("networkidle")
    api = [url for url in asked if "/api/" in url]
    assert len(api) == 1 and "not-a-token" in api[0], asked
    assert await page.locator("gymkana-progress").count() == 0
    assert await _violations(page) == [] and said == []
    await context.close()


async def test_a_click_only_step_leads_on_to_the_brands_page_and_counts(
    sites: Sites, chrome: Browser, worker: Any
) -> None:
    entry, step = await _playing(sites, proof="click")
    context = await chrome.new_context(locale="en-GB")
    page, said = await _watched(context)
    link = visit_link_token(sites.tokens, entry, step)
    await page.goto(f"{sites.app}/go/{link}")
    assert not await Evidence.filter(entry=entry).exists()
    # The form's answer redirects to the brand's site: our own page's policy allows it.
    await page.click("main form button")
    await page.wait_for_url(f"{sites.brand}/en/origin.html")
    await page.wait_for_selector(f"{OVERLAY}[data-gymkana-state=counted]", timeout=20_000)
    assert not await page.locator(f"{OVERLAY} [role=progressbar]").is_visible()
    report = await Evidence.get(entry=entry)
    assert report.status is EvidenceStatus.VERIFIED and report.data["proof"] == "click"
    assert await _violations(page) == [] and said == []
    await context.close()


@pytest.mark.parametrize("language", ["es", "en"])
async def test_the_overlay_passes_axe_while_checking_and_once_counted(
    sites: Sites, chrome: Browser, worker: Any, language: str
) -> None:
    entry, step = await _playing(sites, locale=language)
    # axe-core is injected as an inline script, which the brand's policy forbids.
    context = await chrome.new_context(
        locale=language, viewport={"width": 360, "height": 740}, bypass_csp=True
    )
    page = await context.new_page()
    await _follow_step_link(page, sites, entry, step)
    await page.locator(OVERLAY).wait_for()
    script = axe_script()
    assert await violations(page, script, within="gymkana-progress") == []
    await page.wait_for_selector(f"{OVERLAY}[data-gymkana-state=counted]", timeout=20_000)
    assert await violations(page, script, within="gymkana-progress") == []
    await context.close()
