"""GitHub, Facebook and X, against a local authorization server that speaks like them:
who they vouch for, which email counts as verified, PKCE, and their errors."""

from __future__ import annotations

import html
import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from contests.models import Identity
from contests.settings import Settings
from tests.support.fake_oauth2 import Account, FakeProviders
from tests.support.flows import (
    app_with,
    assert_friendly_failure,
    local,
    provider_answer,
    sign_in_with,
    signed_in,
    start,
    visitor,
)
from tests.support.servers import asgi_server


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    providers = FakeProviders()
    with asgi_server(providers.app) as base:
        providers.base = base
        yield providers


@pytest.fixture(scope="module")
async def oauth2_app(settings: Settings, fake: FakeProviders) -> AsyncIterator[Starlette]:
    async with app_with(settings, fake.environ()) as app:
        yield app


@pytest.fixture
async def browser(oauth2_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with visitor(oauth2_app) as client:
        yield client


@pytest.fixture(autouse=True)
def clean(fake: FakeProviders) -> Iterator[None]:
    fake.deny.clear()
    fake.fail_token.clear()
    yield


def number() -> str:
    return str(secrets.randbelow(10**9) + 1)


async def identity(provider: str, subject: str) -> Identity:
    return await Identity.get(provider=provider, subject=subject).prefetch_related("participant")


async def test_github_signs_in_with_its_verified_primary_email(
    browser: httpx.AsyncClient, fake: FakeProviders
) -> None:
    uid = number()
    fake.accounts["github"] = Account(
        id=uid,
        login="octo",
        name="Octo Cat",
        email="public@example.com",
        emails=[("old@example.com", False, True), (f"{uid}@example.com", True, True)],
    )
    response = await sign_in_with(browser, "github", "/me")
    assert response.status_code == 303 and response.headers["location"] == "/me"
    assert await signed_in(browser)
    sent = fake.seen["github"]["authorize"]
    assert sent["scope"] == "read:user user:email" and sent["code_challenge_method"] == "S256"
    assert fake.seen["github"]["token"]["client_secret"]  # client_secret_post, as documented
    found = await identity("github", uid)
    assert found.email == f"{uid}@example.com" and found.email_verified
    assert found.participant.display_name == "Octo Cat"
    assert found.participant.avatar_url == "https://avatars.example.com/u/1"


async def test_an_unverified_github_primary_email_does_not_count_as_verified(
    browser: httpx.AsyncClient, fake: FakeProviders
) -> None:
    uid = number()
    fake.accounts["github"] = Account(
        id=uid,
        login="newbie",
        name="",
        # The public profile email is not a statement that the address was verified.
        email=f"{uid}@example.com",
        emails=[(f"{uid}@example.com", True, False), ("other@example.com", False, True)],
    )
    await sign_in_with(browser, "github")
    found = await identity("github", uid)
    assert found.email == f"{uid}@example.com" and not found.email_verified
    assert found.participant.email is None and found.participant.display_name == "newbie"


async def test_facebook_signs_in_with_the_graph_api_profile(
    browser: httpx.AsyncClient, fake: FakeProviders
) -> None:
    uid = number()
    fake.accounts["facebook"] = Account(
        id=uid,
        name="Fátima Book",
        email=f"{uid}@example.com",
        avatar="https://graph.example.com/pic.jpg",
    )
    response = await sign_in_with(browser, "facebook", "/me")
    assert response.status_code == 303, response.text
    assert fake.seen["facebook"]["authorize"]["scope"] == "public_profile email"
    found = await identity("facebook", uid)
    assert found.participant.display_name == "Fátima Book"
    assert found.participant.avatar_url == "https://graph.example.com/pic.jpg"
    # Facebook never says whether it verified the address.
    assert found.email == f"{uid}@example.com" and not found.email_verified


async def test_x_signs_in_with_pkce_and_without_an_email(
    browser: httpx.AsyncClient, fake: FakeProviders
) -> None:
    uid = number()
    fake.accounts["x"] = Account(id=uid, name="Xavi", login="xavi")
    response = await sign_in_with(browser, "x", "/me")
    assert response.status_code == 303, response.text
    sent = fake.seen["x"]
    assert sent["authorize"]["code_challenge_method"] == "S256"
    assert sent["token"]["code_verifier"] and "client_secret" not in sent["token"]
    found = await identity("x", uid)
    assert found.email is None and found.participant.display_name == "Xavi"


async def test_cancelling_at_github_ends_on_the_friendly_page(
    browser: httpx.AsyncClient, fake: FakeProviders
) -> None:
    fake.accounts["github"] = Account(id=number(), login="no", name="No")
    fake.deny.add("github")
    response = await sign_in_with(browser, "github")
    assert_friendly_failure(response, "sign_in_cancelled")
    assert not await signed_in(browser)


async def test_a_refused_code_ends_on_the_friendly_page(
    browser: httpx.AsyncClient, fake: FakeProviders
) -> None:
    for provider in ("github", "facebook", "x"):
        fake.accounts[provider] = Account(id=number(), login="p", name="P")
        fake.fail_token.add(provider)
        response = await sign_in_with(browser, provider)
        assert_friendly_failure(response, "provider_error")
        assert not await signed_in(browser)


async def test_a_replayed_callback_signs_nobody_in(
    oauth2_app: Starlette, fake: FakeProviders
) -> None:
    fake.accounts["github"] = Account(id=number(), login="r", name="R")
    async with visitor(oauth2_app) as first:
        authorize = await start(first, "github")
        callback = local(await provider_answer(authorize))
        assert (await first.get(callback)).status_code == 303
    async with visitor(oauth2_app) as second:
        response = await second.get(callback)
        assert_friendly_failure(response, "sign_in_expired")
        assert not await signed_in(second)


async def test_only_configured_providers_show_a_button(
    browser: httpx.AsyncClient, settings: Settings, fake: FakeProviders
) -> None:
    page = html.unescape((await browser.get("/login")).text)
    for label in ("GitHub", "Facebook", "X"):
        assert f"Sign in with {label}</a>" in page
    assert "Sign in with Google" not in page

    only_github = {k: v for k, v in fake.environ().items() if k.startswith("GITHUB_")}
    async with app_with(settings, only_github) as app, visitor(app) as client:
        page = html.unescape((await client.get("/login")).text)
        assert "Sign in with GitHub" in page and "Sign in with Facebook" not in page
        response = await client.get("/login/facebook")
        assert_friendly_failure(response, "unknown_provider", status=404)
    async with app_with(settings, {}) as app, visitor(app) as client:
        page = (await client.get("/login")).text
        assert 'data-testid="providers"' not in page and 'action="/login/email' in page
