"""Signing in with any OpenID Connect provider, through the real routes, against a real
provider on loopback: set up with four variables, and every way it can go wrong ends
on a friendly page, in the person's language, signed out."""

from __future__ import annotations

import html
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from contests.models import Identity, WebSession
from contests.settings import Settings
from tests.factories import csrf_of
from tests.support.flows import app_with, assert_friendly_failure, local, signed_in, start, visitor
from tests.support.oidc_mock import consent, oidc_provider, register

CLIENT_ID = "gymkana-web"
CLIENT_SECRET = "mock-secret-" + "m" * 20


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider() as base:
        yield base


@pytest.fixture(scope="module")
async def oidc_app(settings: Settings, issuer: str) -> AsyncIterator[Starlette]:
    environ = {
        # What a newcomer sets for any OpenID Connect provider: four variables.
        "OIDC_PROVIDERS": "mock",
        "OIDC_MOCK_ISSUER": issuer,
        "OIDC_MOCK_CLIENT_ID": CLIENT_ID,
        "OIDC_MOCK_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_MOCK_LABEL": "Mock ID",
        # Google is an OpenID Connect provider too; here it is the same test provider.
        "GOOGLE_CLIENT_ID": "google-client",
        "GOOGLE_CLIENT_SECRET": "google-secret",
        "GOOGLE_ISSUER": issuer,
    }
    async with app_with(settings, environ) as app:
        yield app


@pytest.fixture
async def browser(oidc_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with visitor(oidc_app) as client:
        yield client


def person() -> str:
    return f"person-{secrets.token_hex(4)}"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_a_newcomer_signs_in_with_any_openid_connect_provider(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    subject = person()
    await register(
        issuer, subject, email=f"{subject}@example.com", email_verified=True, name="Lucía Pérez"
    )
    login = await browser.get("/login?next=/me")
    assert "Sign in with Mock ID" in login.text and "Sign in with Google" in login.text
    csrf_before = csrf_of(login.text)

    authorize = await start(browser, "mock", "/me")
    assert authorize.startswith(f"{issuer}/oauth2/authorize?")
    sent = query(authorize)
    assert sent["client_id"] == CLIENT_ID and sent["code_challenge_method"] == "S256"
    assert sent["state"] and sent["nonce"]
    response = await browser.get(local(await consent(authorize, subject=subject)))

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/me"
    page = await browser.get("/me")
    assert page.status_code == 200 and "Lucía Pérez" in html.unescape(page.text)
    # A fresh session: nothing from before signing in carries over.
    assert csrf_of(page.text) != csrf_before
    identity = await Identity.get(provider="mock", subject=subject).prefetch_related("participant")
    assert identity.email_verified and identity.participant.email == f"{subject}@example.com"
    assert identity.participant.display_name == "Lucía Pérez"


async def test_signing_in_as_someone_else_ends_the_previous_session(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    first = person()
    authorize = await start(browser, "mock")
    await browser.get(local(await consent(authorize, subject=first)))
    identity = await Identity.get(provider="mock", subject=first)
    session = await WebSession.get(participant_id=identity.participant_id)  # type: ignore[attr-defined]
    assert session.revoked_at is None
    authorize = await start(browser, "mock")
    await browser.get(local(await consent(authorize, subject=person())))
    assert (await WebSession.get(id=session.id)).revoked_at is not None
    assert await signed_in(browser)


async def test_google_is_configured_with_its_two_variables(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    subject = person()
    authorize = await start(browser, "google")
    assert query(authorize)["client_id"] == "google-client"
    response = await browser.get(local(await consent(authorize, subject=subject)))
    assert response.status_code == 303
    assert await Identity.filter(provider="google", subject=subject).exists()


async def test_an_email_the_provider_does_not_say_is_verified_is_not_trusted(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    subject = person()
    await register(issuer, subject, email=f"{subject}@example.com", email_verified=False)
    authorize = await start(browser, "mock")
    await browser.get(local(await consent(authorize, subject=subject)))
    identity = await Identity.get(provider="mock", subject=subject).prefetch_related("participant")
    assert identity.email == f"{subject}@example.com" and not identity.email_verified
    assert identity.participant.email is None


async def test_the_same_verified_email_at_two_providers_makes_two_accounts(
    oidc_app: Starlette, issuer: str
) -> None:
    subject = person()
    await register(issuer, subject, email=f"{subject}@example.com", email_verified=True)
    for provider in ("mock", "google"):
        async with visitor(oidc_app) as client:
            authorize = await start(client, provider)
            await client.get(local(await consent(authorize, subject=subject)))
    mock = await Identity.get(provider="mock", subject=subject)
    google = await Identity.get(provider="google", subject=subject)
    assert mock.participant_id != google.participant_id  # type: ignore[attr-defined]


async def test_a_wrong_state_is_refused_and_logged_and_signs_nobody_out(
    browser: httpx.AsyncClient, issuer: str, caplog: pytest.LogCaptureFixture
) -> None:
    authorize = await start(browser, "mock")
    await browser.get(local(await consent(authorize, subject=person())))
    assert await signed_in(browser)
    sessions_before = await WebSession.filter(revoked_at=None).count()

    authorize = await start(browser, "mock")
    answer = query(await consent(authorize, subject=person()))
    forged = {"code": answer["code"], "state": "not-the-state-we-sent"}
    response = await browser.get(f"/auth/mock/callback?{urlencode(forged)}")
    assert_friendly_failure(response, "sign_in_expired")
    # Any site can send a browser here: a forged callback must not sign anyone out.
    assert await signed_in(browser)
    assert await WebSession.filter(revoked_at=None).count() == sessions_before
    logged = [r for r in caplog.records if r.name == "gymkana.sign_in"]
    assert any("sign_in_expired" in r.getMessage() and "state" in r.getMessage() for r in logged)


async def test_a_code_carried_to_another_browser_is_refused(
    oidc_app: Starlette, issuer: str
) -> None:
    async with visitor(oidc_app) as victim, visitor(oidc_app) as attacker:
        authorize = await start(attacker, "mock")
        callback = local(await consent(authorize, subject=person()))
        response = await victim.get(callback)
        assert_friendly_failure(response, "sign_in_expired")
        assert not await signed_in(victim)


async def test_a_code_from_another_sign_in_fails_on_its_nonce(
    oidc_app: Starlette, issuer: str
) -> None:
    # The attacker's code, slipped into the victim's flow with the victim's own state:
    # the state matches, the provider (without PKCE here) hands out a token, and only
    # the nonce shows that the token belongs to another sign-in.
    async with visitor(oidc_app) as victim, visitor(oidc_app) as attacker:
        victims = await start(victim, "mock")
        attackers = await start(attacker, "mock")
        stolen = query(await consent(attackers, subject="attacker-" + person()))
        injected = {"code": stolen["code"], "state": query(victims)["state"]}
        response = await victim.get(f"/auth/mock/callback?{urlencode(injected)}")
        assert_friendly_failure(response, "sign_in_unverified")
        assert not await signed_in(victim)


async def test_a_replayed_callback_and_a_used_code_are_refused(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    authorize = await start(browser, "mock")
    callback = local(await consent(authorize, subject=person()))
    assert (await browser.get(callback)).status_code == 303
    sessions = await WebSession.filter(revoked_at=None).count()

    replay = await browser.get(callback)
    assert_friendly_failure(replay, "sign_in_expired")

    fresh = query(await start(browser, "mock"))
    used_code = {"code": query(callback)["code"], "state": fresh["state"]}
    response = await browser.get(f"/auth/mock/callback?{urlencode(used_code)}")
    assert_friendly_failure(response, "provider_error")
    # Neither signs anyone in (nor out: the first sign-in still holds).
    assert await WebSession.filter(revoked_at=None).count() == sessions


async def test_a_callback_replayed_with_a_copy_of_the_cookie_is_refused(
    oidc_app: Starlette, issuer: str
) -> None:
    # The flow's secrets live on the server and are used up there: an old copy of the
    # cookie does not bring them back.
    async with visitor(oidc_app) as client:
        authorize = await start(client, "mock")
        copied = dict(client.cookies)
        callback = local(await consent(authorize, subject=person()))
        assert (await client.get(callback)).status_code == 303
    async with visitor(oidc_app) as thief:
        thief.cookies.update(copied)
        response = await thief.get(callback)
        assert_friendly_failure(response, "sign_in_expired")
        assert not await signed_in(thief)


async def test_cancelling_at_the_provider_says_so_in_the_persons_language(
    oidc_app: Starlette, issuer: str
) -> None:
    async with visitor(oidc_app, language="es-ES,es;q=0.9") as client:
        authorize = await start(client, "mock", "/me")
        cancelled = await consent(authorize, deny=True)
        assert query(cancelled)["error"] == "access_denied"
        response = await client.get(local(cancelled))
        assert_friendly_failure(response, "sign_in_cancelled")
        text = html.unescape(response.text)
        assert "Has cancelado el inicio de sesión con Mock ID" in text
        assert 'href="/login/mock?next=/' in text
        assert not await signed_in(client)


async def test_an_unknown_provider_is_a_friendly_not_found(browser: httpx.AsyncClient) -> None:
    for path in ("/login/nowhere?next=/me", "/auth/nowhere/callback?code=x&state=y"):
        response = await browser.get(path)
        assert_friendly_failure(response, "unknown_provider", status=404)


async def test_a_link_to_an_unknown_provider_signs_nobody_out(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    authorize = await start(browser, "mock")
    await browser.get(local(await consent(authorize, subject=person())))
    sessions_before = await WebSession.filter(revoked_at=None).count()
    for path in ("/login/nowhere", "/login/" + "x" * 5000, "/auth/nowhere/callback"):
        response = await browser.get(path)
        assert_friendly_failure(response, "unknown_provider", status=404)
        assert await signed_in(browser), path
    assert await WebSession.filter(revoked_at=None).count() == sessions_before


async def test_next_accepts_only_a_local_path(browser: httpx.AsyncClient, issuer: str) -> None:
    authorize = await start(browser, "mock", "https://evil.example/steal")
    response = await browser.get(local(await consent(authorize, subject=person())))
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_signing_out_ends_the_session_on_the_server(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    authorize = await start(browser, "mock")
    await browser.get(local(await consent(authorize, subject=person())))
    stolen = dict(browser.cookies)
    page = await browser.get("/me")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert (await browser.post("/logout", data={"csrf_token": token})).status_code == 303
    browser.cookies.clear()
    browser.cookies.update(stolen)
    assert not await signed_in(browser)
