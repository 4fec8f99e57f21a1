"""A real browser (Debian's chromium through Playwright) on a phone-sized screen scans
the demo's QR codes: signed out, it signs in and comes back to finish without scanning
again; the screen's rotating code changes in place, without reloading the page."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from tests.support.gymkana import chromium, running_demo
from tests.test_browser import CHROMIUM, _sign_in_from_login

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[dict[str, str]]:
    with running_demo(tmp_path_factory.mktemp("qr-demo"), redis_url) as servers:
        yield servers


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


async def _fits_the_screen(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width} px"


async def _qr_steps_done(page: Page, contest_url: str) -> int:
    await page.goto(contest_url)
    return await page.locator("li.step.done[data-kind=qr]").count()


async def test_scanning_signed_out_then_signing_in_comes_back_and_finishes(
    demo: dict[str, str], browser: Browser
) -> None:
    base = demo["base"]
    context = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await context.new_page()
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda m: csp_violations.append(m.text) if "Content Security" in m.text else None,
    )

    # The shop's poster, "scanned" by opening the link beneath it.
    await page.goto(f"{base}/demo/qr")
    await _fits_the_screen(page)
    await page.locator("[data-testid=demo-qr-printed] [data-testid=qr-link]").click()
    sign_in = page.locator("[data-testid=scan-sign-in]")
    await sign_in.wait_for()
    scan_url = page.url
    assert "/qr/" in scan_url
    await _fits_the_screen(page)
    assert "without scanning again" in await page.locator("[data-testid=scan]").inner_text()

    address = f"scan-{secrets.token_hex(3)}@example.com"
    await sign_in.click()
    await _sign_in_from_login(page, base, address)
    assert page.url == scan_url

    # Entering on the way, and back to the same page.
    await page.check("[data-testid=scan] input[name=consent]")
    await page.click("[data-testid=scan] form button")
    complete = page.locator("[data-testid=scan-complete]")
    await complete.wait_for()
    assert page.url == scan_url
    await _fits_the_screen(page)
    # The one button, by keyboard.
    await complete.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/c/[a-z0-9-]+#step-"))
    contest_url = page.url.split("#")[0]
    assert "is done" in await page.locator(".flash-success").inner_text()
    assert await _qr_steps_done(page, contest_url) == 1

    # The tasting's screen: its code changes in place, the page is not reloaded.
    await page.goto(f"{base}/demo/qr")
    rotating = page.locator("[data-testid=demo-qr-rotating]")
    link = rotating.locator("[data-testid=qr-link]")
    first_code = await link.get_attribute("href")
    first_image = await rotating.locator("img").get_attribute("src")
    await page.evaluate("window.stillTheSamePage = true")
    await page.wait_for_function(
        "href => document.querySelector("
        "'[data-testid=demo-qr-rotating] [data-testid=qr-link]').href !== href",
        arg=first_code,
        timeout=25_000,
    )
    assert await page.evaluate("window.stillTheSamePage === true")
    assert await rotating.locator("img").get_attribute("src") != first_image
    assert await link.inner_text() == await link.get_attribute("href")

    await link.click()
    await complete.wait_for()
    await complete.click()
    await page.wait_for_url(re.compile(r"#step-"))
    assert await _qr_steps_done(page, contest_url) == 2
    assert not csp_violations, csp_violations
    await context.close()
