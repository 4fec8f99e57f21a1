"""A real browser (Debian's chromium through Playwright) signs in with an OpenID Connect
provider and signs out, against `gymkana serve` configured by environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser

from tests.conftest import SECRET
from tests.support.gymkana import chromium, gymkana_command
from tests.support.oidc_mock import User, oidc_provider
from tests.support.servers import free_port
from tests.test_browser import CHROMIUM

pytestmark = pytest.mark.browser

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
    with gymkana_command(["serve", "--port", str(port)], env, base):
        yield base


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


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
