"""A real browser (Debian's chromium through Playwright) clicks through the demo:
the participant's whole gymkana, and the marketer closing the contest."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page

from tests.support.gymkana import chromium, gymkana_command
from tests.support.servers import free_port

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[dict[str, str]]:
    """`gymkana demo` exactly as a newcomer runs it, on its own database and ports."""
    port, site_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}",
        "REDIS_URL": redis_url,
        "QUEUE_NAME": f"demo-test-{secrets.token_hex(3)}",
    }
    for name in ("SECRET_KEY", "SMTP_URL", "BASE_URL"):
        env.pop(name, None)
    args = ["demo", "--port", str(port), "--site-port", str(site_port)]
    with gymkana_command(args, env, f"http://127.0.0.1:{port}") as base:
        yield {"base": base, "site": f"http://127.0.0.1:{site_port}"}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


async def _sign_in(page: Page, base: str, address: str, next_path: str) -> None:
    await page.goto(f"{base}/login?next={next_path}")
    await page.fill("#email", address)
    await page.click("main form button[type=submit]")
    await page.click("text=/buzón|mailbox/i")
    for _ in range(50):
        await page.goto(f"{base}/demo/mailbox")
        link = page.locator("tr", has_text=address).locator("a").first
        if await link.count():
            break
        await asyncio.sleep(0.2)
    await link.click()
    await page.locator("pre a").first.click()
    await page.click("main form button[type=submit]")


async def test_a_participant_plays_the_demo_and_the_marketer_draws_the_winner(
    demo: dict[str, str], browser: Browser
) -> None:
    base, site = demo["base"], demo["site"]
    participant = await browser.new_context(locale="es-ES")
    page = await participant.new_page()
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda m: csp_violations.append(m.text) if "Content Security" in m.text else None,
    )

    address = f"ana-{secrets.token_hex(3)}@example.com"
    await page.goto(f"{base}/")
    await page.click("main a[href^='/c/']")
    contest_url = page.url
    await page.click("text=Entra para participar")
    await _sign_in_from_login(page, base, address)
    assert page.url == contest_url

    await page.check("input[name=consent]")
    await page.click("form[action$='/enter'] button")
    await page.wait_for_selector("[data-testid=progress]")

    # The visit step leads to the brand's own site, where the snippet shows the overlay
    # and, after the dwell time, reports the visit.
    await page.locator("[data-testid=visit-link]").first.click()
    assert page.url.startswith(site)
    overlay = page.locator("[data-gymkana=overlay]")
    await overlay.wait_for()
    # The snippet takes its token out of the address bar (no leaking in shared links).
    assert "gk=" not in page.url
    assert re.search(r"paso 1 de 5", await overlay.inner_text(), re.IGNORECASE)
    await page.wait_for_selector("[data-gymkana-state=sent]", timeout=20_000)

    # The code is on the brand's menu page.
    await page.goto(f"{site}/es/carta.html")
    code = (await page.locator("code").first.inner_text()).strip()
    await page.goto(contest_url)
    await page.locator("li[data-kind=code] input[name=code]").fill(f"  {code.lower()} ")
    await page.locator("li[data-kind=code] button").click()
    for _ in range(50):
        progress = await page.locator("[data-testid=progress]").inner_text()
        if progress.startswith("2 de 5"):
            break
        await asyncio.sleep(0.2)
        await page.goto(contest_url)
    assert progress.startswith("2 de 5"), progress
    assert "sorteo" in (await page.locator("p.ok").first.inner_text())

    # The share step counts on the participant's word; their personal link and its QR
    # code are on the page, copied by keyboard alone, and nothing overflows a 360 px phone.
    assert "/r/" in await page.locator("li[data-kind=share] input[readonly]").input_value()
    await page.set_viewport_size({"width": 360, "height": 800})
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.locator("li[data-kind=share] [data-testid=shared]").click()
    await page.wait_for_selector("[data-testid=progress]")
    assert (await page.locator("[data-testid=progress]").inner_text()).startswith("3 de 5")
    link = await page.locator("#referral-link").input_value()
    assert re.fullmatch(rf"{re.escape(base)}/c/[a-z0-9-]+/r/[\w-]+", link), link
    qr = page.locator("#referral img")
    assert await qr.evaluate("image => image.complete && image.naturalWidth > 0")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.locator("#referral button[data-copy]").focus()
    await page.keyboard.press("Enter")
    status = page.locator("#referral [data-copy-status]")
    await status.filter(has_text="Enlace copiado").wait_for()

    # The marketer closes the contest from the console; the worker draws.
    marketer = await browser.new_context(locale="en-GB")
    console = await marketer.new_page()
    await _sign_in(console, base, "marketer@demo.gymkana.test", "/console")
    await console.click("text=La ruta del café")
    await console.click("text=Close now and draw")
    for _ in range(100):
        if await console.locator("[data-testid=winners]").count():
            break
        await asyncio.sleep(0.2)
        await console.reload()
    assert address in await console.locator("[data-testid=winners]").inner_text()

    await page.goto(contest_url)
    assert "¡Has ganado" in await page.locator("[data-testid=my-win]").inner_text()
    await page.goto(f"{base}/demo/mailbox")
    await page.locator("tr", has_text=address).filter(has_text="ganado").first.wait_for()
    assert not csp_violations, csp_violations
    await participant.close()
    await marketer.close()


async def _sign_in_from_login(page: Page, base: str, address: str) -> None:
    """From the sign-in page the contest sent us to: the link comes back to the contest."""
    await page.fill("#email", address)
    await page.click("main form button[type=submit]")
    await page.click("text=/buzón|mailbox/i")
    for _ in range(50):
        link = page.locator("tr", has_text=address).locator("a").first
        if await link.count():
            break
        await asyncio.sleep(0.2)
        await page.reload()
    await link.click()
    await page.locator("pre a").first.click()
    await page.click("main form button[type=submit]")
