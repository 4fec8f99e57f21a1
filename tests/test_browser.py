"""A real browser (Debian's chromium through Playwright) clicks through the demo:
the participant's whole gymkana, the marketer closing the contest, creating a brand
and checking the snippet on the demo brand site."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.gymkana import chromium, running_demo
from tests.support.images import png

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[dict[str, str]]:
    with running_demo(tmp_path_factory.mktemp("demo"), redis_url) as servers:
        yield servers


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


# What sticks out past the right edge of the screen, to say so when something does.
WIDER_THAN_THE_SCREEN = """
[...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
  .map(e => `${e.tagName}.${e.className}#${e.id}`)
  .slice(0, 10)
"""


async def _fits(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling on a small phone."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow}px too wide: {await page.evaluate(WIDER_THAN_THE_SCREEN)}"


# Runs before the test below closes the module's demo contest.
async def test_a_phone_user_answers_the_quiz_and_tells_the_brand_by_keyboard(
    demo: dict[str, str], browser: Browser
) -> None:
    base, site = demo["base"], demo["site"]
    phone = await browser.new_context(locale="es-ES", viewport={"width": 360, "height": 740})
    page = await phone.new_page()
    await page.goto(f"{base}/")
    await page.click("main a[href^='/c/']")
    contest_url = page.url
    await page.click("text=Entra para participar")
    await _sign_in_from_login(page, base, f"leo-{secrets.token_hex(3)}@example.com")
    await page.check("input[name=consent]")
    await page.click("form[action$='/enter'] button")
    await page.wait_for_selector("[data-testid=progress]")
    await _fits(page)

    # The answer, as a person reads it on the brand's page, typed without its accent.
    await page.goto(f"{site}/es/origen.html")
    assert "Doña Marleny" in await page.locator("main").inner_text()
    await page.goto(contest_url)
    quiz = page.locator("li[data-kind=quiz]")
    await quiz.locator("input[name=answer]").focus()
    await page.keyboard.type("Marlen")
    await page.keyboard.press("Enter")
    message = quiz.locator("[role=alert]")
    assert "Te quedan 2 intentos" in await message.inner_text()
    described = await quiz.locator("input[name=answer]").get_attribute("aria-describedby")
    assert await message.get_attribute("id") in (described or "").split()
    await _fits(page)
    await quiz.locator("input[name=answer]").focus()
    await page.keyboard.type("dona marleny")
    await page.keyboard.press("Enter")
    assert "Respuesta correcta" in await quiz.locator("[role=status]").inner_text()

    opinion = page.locator("li[data-kind=opinion]")
    await opinion.locator("textarea").focus()
    await page.keyboard.type("Algo de Etiopía,\npor favor <3")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.type") == "submit"
    await page.keyboard.press("Enter")
    assert "Gracias" in await opinion.locator("[role=status]").inner_text()
    assert (
        "Algo de Etiopía,\npor favor <3"
        in await opinion.locator("[data-testid=my-answer]").inner_text()
    )
    await _fits(page)
    await phone.close()


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
    # and, after the dwell time, reports the visit; once the worker has verified it, the
    # overlay says it counted.
    await page.locator("[data-testid=visit-link]").first.click()
    assert page.url.startswith(site)
    overlay = page.locator("[data-gymkana=overlay]")
    await overlay.wait_for()
    # The snippet takes its token out of the address bar (no leaking in shared links).
    assert "gk=" not in page.url
    found = re.search(r"paso 1 de (\d+)", await overlay.inner_text(), re.IGNORECASE)
    assert found, await overlay.inner_text()
    steps = int(found.group(1))
    await page.wait_for_selector("[data-gymkana-state=counted]", timeout=20_000)
    await expect(overlay.locator("[role=status]")).to_contain_text(f"¡Ha contado! 1 de {steps}")

    # The code is on the brand's menu page.
    await page.goto(f"{site}/es/carta.html")
    code = (await page.locator("code").first.inner_text()).strip()
    await page.goto(contest_url)
    await page.locator("li[data-kind=code] input[name=code]").fill(f"  {code.lower()} ")
    await page.locator("li[data-kind=code] button").click()
    for _ in range(50):
        progress = await page.locator("[data-testid=progress]").inner_text()
        if progress.startswith(f"2 de {steps}"):
            break
        await asyncio.sleep(0.2)
        await page.goto(contest_url)
    assert progress.startswith(f"2 de {steps}"), progress
    assert "sorteo" in (await page.locator("p.ok").first.inner_text())

    # The quiz's answer is on the brand's origin page; the opinion is the person's own.
    await page.locator("li[data-kind=quiz] input[name=answer]").fill("dona MARLENY")
    await page.locator("li[data-kind=quiz] button").click()
    await page.locator("li[data-kind=opinion] textarea").fill("Un café de Kenia, por favor.")
    await page.locator("li[data-kind=opinion] button").click()
    assert (await page.locator("[data-testid=progress]").inner_text()).startswith(f"4 de {steps}")

    # The share step counts on the participant's word; their personal link and its QR
    # code are on the page, copied by keyboard alone, and nothing overflows a 360 px phone.
    assert "/r/" in await page.locator("li[data-kind=share] input[readonly]").input_value()
    await page.set_viewport_size({"width": 360, "height": 800})
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.locator("li[data-kind=share] [data-testid=shared]").click()
    await page.wait_for_selector("[data-testid=progress]")
    assert (await page.locator("[data-testid=progress]").inner_text()).startswith(f"5 de {steps}")
    link = await page.locator("#referral-link").input_value()
    assert re.fullmatch(rf"{re.escape(base)}/c/[a-z0-9-]+/r/[\w-]+", link), link
    qr = page.locator("#referral img")
    assert await qr.evaluate("image => image.complete && image.naturalWidth > 0")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.locator("#referral button[data-copy]").focus()
    await page.keyboard.press("Enter")
    status = page.locator("#referral [data-copy-status]")
    await status.filter(has_text="Enlace copiado").wait_for()

    # The shop's poster, "scanned" from the demo's QR page: the scan page's one button.
    await page.goto(f"{base}/demo/qr")
    await page.locator("[data-testid=demo-qr-printed] [data-testid=qr-link]").click()
    await page.locator("[data-testid=scan-complete]").click()
    await page.wait_for_url(re.compile(r"/c/[a-z0-9-]+#step-"))
    assert (await page.locator("[data-testid=progress]").inner_text()).startswith(f"6 de {steps}")

    # The marketer closes the contest from the console; the worker draws.
    marketer = await browser.new_context(locale="en-GB")
    console = await marketer.new_page()
    await _sign_in(console, base, "marketer@demo.gymkana.test", "/console")
    await console.click("text=La ruta del café")
    await console.check("#close input[name=confirm]")
    await console.click("#close button")
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


async def test_the_marketer_creates_a_brand_with_its_logo_and_checks_the_demo_site(
    demo: dict[str, str], browser: Browser
) -> None:
    base = demo["base"]
    context = await browser.new_context(locale="en-GB")
    page = await context.new_page()
    await _sign_in(page, base, "marketer@demo.gymkana.test", "/console")

    await page.click("text=Create another brand")
    await page.fill("#brand-name", "Tostadores del Norte")
    await page.fill("#brand-domains", "tostadores.example.com")
    await page.fill("#brand-reply-to", "hola@tostadores.example.com")
    await page.fill("#brand-colour", "#1d4ed8")
    await page.set_input_files(
        "#brand-logo", {"name": "logo.png", "mimeType": "image/png", "buffer": png((240, 80))}
    )
    await page.click("text=Create the brand")
    assert "Brand created." in await page.locator("main").inner_text()
    assert await page.locator("h1", has_text="Tostadores del Norte").count() == 1
    logo = page.locator("#look img.brand-logo")
    assert await logo.evaluate("img => img.complete && img.naturalWidth") == 240

    # Back to the demo brand: its site has the snippet on every page.
    await page.click("nav >> text=Console")
    await page.click("main >> text=Café Aurora")
    await (
        page.locator("tr", has_text="La ruta del café")
        .locator("text=Check the installation")
        .click()
    )
    await page.click("text=Check the installation now")
    for _ in range(100):
        table = await page.locator("[data-testid=installation]").inner_text()
        if "Not checked yet." not in table:
            break
        await asyncio.sleep(0.2)
        await page.reload()
    assert "The snippet is installed on this page." in table
    assert "not on it" not in table and "Not fetched" not in table
    await context.close()
