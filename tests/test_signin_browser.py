"""A real browser (Debian's chromium through Playwright) signs in with an OpenID Connect
provider and signs out, against `gymkana serve` configured by environment variables."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from tests.conftest import SECRET
from tests.support.oidc_mock import User, oidc_provider
from tests.support.servers import free_port
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PERSON = User(
    sub="browser-person",
    claims={"email": "nuria@example.com", "email_verified": True, "name": "Nuria Navegadora"},
)


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider([PERSON]) as base:
        yield base


@pytest.fixture(scope="module")
def gymkana(issuer: str, tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[str]:
    """`gymkana serve` as an operator runs it, with one OpenID Connect provider."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path_factory.mktemp('serve') / 'gymkana.sqlite3'}",
        "REDIS_URL": redis_url,
        "QUEUE_NAME": f"signin-test-{secrets.token_hex(3)}",
        "SECRET_KEY": SECRET,
        "BASE_URL": base,
        "OIDC_PROVIDERS": "company",
        "OIDC_COMPANY_ISSUER": issuer,
        "OIDC_COMPANY_CLIENT_ID": "gymkana-browser",
        "OIDC_COMPANY_CLIENT_SECRET": "browser-secret-" + "b" * 20,
        "OIDC_COMPANY_LABEL": "Company ID",
    }
    env.pop("SMTP_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"gymkana serve did not start:\n{output}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is not at {CHROMIUM}: run scripts/ensure-chromium.sh")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def test_signing_in_with_an_openid_provider_and_out_again(
    gymkana: str, issuer: str, browser: Browser
) -> None:
    context = await browser.new_context(locale="es-ES")
    page = await context.new_page()
    await page.goto(f"{gymkana}/login?next=/me")
    await page.click("text=Entrar con Company ID")

    # The provider's own consent page.
    assert page.url.startswith(f"{issuer}/oauth2/authorize")
    await page.click("button:has-text('browser-person')")

    await page.wait_for_url(f"{gymkana}/me")
    assert "Nuria Navegadora" in await page.locator("main h1").inner_text()
    assert "Company ID" in await page.locator("[data-testid=identities]").inner_text()

    await page.click("header form[action='/logout'] button")
    await page.wait_for_url(f"{gymkana}/")
    await page.goto(f"{gymkana}/me")
    assert page.url.startswith(f"{gymkana}/login")
    await context.close()
