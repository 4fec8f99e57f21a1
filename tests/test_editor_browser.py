"""A real browser: a marketer writes a contest in Spanish and English with its rules,
previews it in both languages as a participant will see it, and publishes it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from tests.support.gymkana import chromium, running_demo
from tests.test_browser import CHROMIUM, _sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[dict[str, str]]:
    with running_demo(tmp_path_factory.mktemp("editor-demo"), redis_url) as servers:
        yield servers


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Europe/Madrid")).strftime("%Y-%m-%dT%H:%M")


async def test_a_marketer_writes_a_bilingual_contest_with_rules_previews_and_publishes(
    demo: dict[str, str], browser: Browser
) -> None:
    base = demo["base"]
    marketer = await browser.new_context(locale="en-GB")
    page = await marketer.new_page()
    await _sign_in(page, base, "marketer@demo.gymkana.test", "/console")
    await page.click("text=New contest")

    # The contest in both languages; a mistake first, and the form keeps what was typed.
    spanish = f"Ruta de otoño {secrets.token_hex(2)}"
    now = datetime.now(ZoneInfo("UTC"))
    await page.fill("#title_es", spanish)
    await page.fill("#title_en", "Autumn trail")
    await page.fill("#description_es", "Descubre **la tienda**.\n\nY gana.")
    await page.fill("#description_en", "Discover *the shop*.")
    await page.fill("#starts_at", _local(now - timedelta(minutes=5)))
    await page.fill("#ends_at", _local(now - timedelta(days=1)))
    await page.select_option("#timezone", "Europe/Madrid")
    await page.click("main form button[type=submit]")
    await expect(page.locator("#form-error")).to_contain_text("must end after it starts")
    await expect(page.locator("#title_en")).to_have_value("Autumn trail")
    await page.fill("#ends_at", _local(now + timedelta(days=7)))
    await page.click("main form button[type=submit]")
    await expect(page.locator("h1")).to_contain_text(spanish)
    contest_page = page.url

    # A prize and a step, each with its English words.
    await page.fill("#prize-name", "Una cesta de otoño")
    await page.fill("#prize-name-en", "An autumn basket")
    await page.click("#prizes form.card button[type=submit]")
    # One kind's form at a time: choosing "share" after "quiz" shows the share fields only.
    await page.click("details[data-kind=quiz] summary")
    await page.click("details[data-kind=share] summary")
    assert not await page.locator("details[data-kind=quiz]").evaluate("kind => kind.open")
    share = page.locator("details[data-kind=share] form")
    await share.locator("[name=title]").fill("Compártelo")
    await share.locator("[name=title_en]").fill("Share it")
    await share.locator("button[type=submit]").click()
    await expect(page.locator("[data-testid=publish-problems]")).to_have_count(0)

    # The rules start from the template; the marketer completes and saves them.
    await page.click("text=Rules and privacy notice")
    await expect(page.locator("#rules_es")).to_contain_text("organiza el concurso")
    await page.fill("#rules_es", "## Bases\n\nUna participación por persona.")
    await page.fill("#rules_en", "## Rules\n\nOne entry per person.")
    await page.click("text=Save the rules")
    await expect(page.locator("main")).to_contain_text("Rules saved as version 1.")

    # The preview, in English and in Spanish, as a participant will see it.
    await page.click("[data-testid=preview-en]")
    await expect(page.locator("[data-testid=preview-note]")).to_be_visible()
    await expect(page.locator("h1")).to_have_text("Autumn trail")
    await expect(page.locator("[data-testid=description] em")).to_have_text("the shop")
    await expect(page.locator("main")).to_contain_text("An autumn basket")
    await expect(page.locator("main")).to_contain_text("Share it")
    await page.click("text=Read the rules and the privacy notice")
    await expect(page.locator("[data-testid=rules]")).to_contain_text("One entry per person.")
    await page.click("text=Back to the contest")
    await page.click("[data-testid=back-to-console]")
    await page.click("[data-testid=preview-es]")
    await expect(page.locator("h1")).to_have_text(spanish)
    await expect(page.locator("[data-testid=description] strong")).to_have_text("la tienda")
    await expect(page.locator("main")).to_contain_text("Una cesta de otoño")

    # Back in the console, in English still; publishing asks for the box first.
    await page.click("[data-testid=back-to-console]")
    assert page.url == contest_page
    await page.check("#publish input[name=confirm]")
    await page.click("#publish button[type=submit]")
    await expect(page.locator("[data-testid=status]")).to_have_text("live")

    # The public page, for a reader of English.
    reader = await browser.new_context(locale="en-GB")
    public = await reader.new_page()
    await public.goto(await page.locator("a[href*='/c/']").first.get_attribute("href") or "")
    await expect(public.locator("h1")).to_have_text("Autumn trail")
    await reader.close()
    await marketer.close()
