"""In a real browser, on the demo as a newcomer runs it: the demo's marketer creates a
brand with its logo, then checks that the snippet is installed on the demo brand site."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator

import pytest
from PIL import Image
from playwright.async_api import Browser

from tests.support.gymkana import chromium, running_demo
from tests.test_browser import CHROMIUM, _sign_in

pytestmark = pytest.mark.browser

MARKETER = "marketer@demo.gymkana.test"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[dict[str, str]]:
    with running_demo(tmp_path_factory.mktemp("demo"), redis_url) as servers:
        yield servers


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 80), (29, 78, 216)).save(out, format="PNG")
    return out.getvalue()


async def test_the_marketer_creates_a_brand_with_its_logo_and_checks_the_demo_site(
    demo: dict[str, str], browser: Browser
) -> None:
    base = demo["base"]
    context = await browser.new_context(locale="en-GB")
    page = await context.new_page()
    await _sign_in(page, base, MARKETER, "/console")

    await page.goto(f"{base}/console?new")
    await page.fill("#brand-name", "Tostadores del Norte")
    await page.fill("#brand-domains", "tostadores.example.com")
    await page.fill("#brand-reply-to", "hola@tostadores.example.com")
    await page.fill("#brand-colour", "#1d4ed8")
    await page.set_input_files(
        "#brand-logo", {"name": "logo.png", "mimeType": "image/png", "buffer": _png()}
    )
    await page.click("text=Create the brand")
    assert "Brand created." in await page.locator("main").inner_text()
    assert await page.locator("h1", has_text="Tostadores del Norte").count() == 1
    logo = page.locator("#look img.brand-logo")
    assert await logo.evaluate("img => img.complete && img.naturalWidth") == 240

    # Back to the demo brand: its site has the snippet on every page.
    await page.goto(f"{base}/console")
    await page.click("text=Café Aurora")
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
