"""What a correct OpenID Connect provider never sends, sent by one of our own: each
answer ends on the friendly sign-in page, nobody signed in, the reason in the log."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette

from contests.models import Identity
from contests.settings import Settings
from oauth.flow import FLOW_LIFETIME, SignInFlows
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
from tests.support.hostile_oidc import (
    CLIENT_ID,
    CLIENT_SECRET,
    DROP,
    Behaviour,
    HostileProvider,
    Person,
)
from tests.support.servers import asgi_server

TENANT = "rp"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileProvider]:
    provider = HostileProvider()
    with asgi_server(provider.app) as base:
        provider.base = base
        # The impostor's discovery document names another issuer than its own address.
        provider.act("impostor").metadata["issuer"] = provider.issuer(TENANT)
        yield provider


@pytest.fixture(scope="module")
async def hostile_app(settings: Settings, hostile: HostileProvider) -> AsyncIterator[Starlette]:
    environ = {
        "OIDC_PROVIDERS": "hostile,impostor",
        "OIDC_HOSTILE_ISSUER": hostile.issuer(TENANT),
        "OIDC_HOSTILE_CLIENT_ID": CLIENT_ID,
        "OIDC_HOSTILE_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_HOSTILE_LABEL": "Hostile ID",
        # Its discovery document names another issuer than the one configured.
        "OIDC_IMPOSTOR_ISSUER": hostile.issuer("impostor"),
        "OIDC_IMPOSTOR_CLIENT_ID": CLIENT_ID,
        "OIDC_IMPOSTOR_CLIENT_SECRET": CLIENT_SECRET,
    }
    async with app_with(settings, environ) as app:
        yield app


@pytest.fixture
async def browser(hostile_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with visitor(hostile_app) as client:
        yield client


@pytest.fixture(autouse=True)
def honest(hostile: HostileProvider) -> Iterator[HostileProvider]:
    """Every test starts with an honest provider and a person of its own."""
    hostile.behaviour.pop(TENANT, None)
    hostile.person = Person(subject=f"subject-{time.monotonic_ns()}", email=None)
    yield hostile
    hostile.behaviour.pop(TENANT, None)


def act(hostile: HostileProvider) -> Behaviour:
    return hostile.act(TENANT)


async def refused(browser: httpx.AsyncClient, code: str = "sign_in_unverified") -> None:
    response = await sign_in_with(browser, "hostile")
    assert_friendly_failure(response, code)
    assert not await signed_in(browser)


async def test_an_honest_provider_signs_in_with_state_nonce_and_pkce(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    response = await sign_in_with(browser, "hostile", "/me")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/me"
    assert await signed_in(browser)
    sent = hostile.seen["authorize"]
    assert len(sent["state"]) >= 20 and len(sent["nonce"]) >= 20
    assert sent["code_challenge_method"] == "S256" and sent["code_challenge"]
    assert sent["scope"].split() == ["openid", "email", "profile"]
    assert sent["redirect_uri"] == "http://testserver/auth/hostile/callback"
    assert await Identity.filter(provider="hostile", subject=hostile.person.subject).exists()


async def test_a_wrong_issuer_in_the_id_token_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["iss"] = hostile.issuer("someone-else")
    await refused(browser)


async def test_a_token_for_another_client_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["aud"] = "another-client"
    await refused(browser)


async def test_a_token_also_for_another_client_is_refused_without_our_azp(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["aud"] = [CLIENT_ID, "another-client"]
    await refused(browser)


async def test_a_token_for_another_authorised_party_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims |= {"aud": CLIENT_ID, "azp": "another-client"}
    await refused(browser)


async def test_several_audiences_are_accepted_when_we_are_the_authorised_party(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims |= {"aud": [CLIENT_ID, "an-api"], "azp": CLIENT_ID}
    response = await sign_in_with(browser, "hostile")
    assert response.status_code == 303
    assert await signed_in(browser)


async def test_a_token_without_a_subject_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["sub"] = DROP
    await refused(browser)


async def test_a_token_without_iat_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["iat"] = DROP
    await refused(browser)


async def test_an_old_token_is_refused_even_if_it_has_not_expired(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    now = int(time.time())
    act(hostile).claims |= {"iat": now - 20 * 60, "exp": now + 3600}
    await refused(browser)


async def test_an_expired_token_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    now = int(time.time())
    act(hostile).claims |= {"iat": now - 200, "exp": now - 100}
    await refused(browser)


async def test_an_unsigned_token_is_refused_though_the_metadata_offers_none(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).signing = "none"
    await refused(browser)


async def test_a_token_signed_with_hmac_over_the_public_key_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).signing = "hs256-public-key"
    await refused(browser)


async def test_a_bad_signature_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).signing = "other-key"
    await refused(browser)


async def test_a_wrong_nonce_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["nonce"] = "a-nonce-from-another-sign-in"
    await refused(browser)


async def test_a_missing_nonce_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["nonce"] = DROP
    await refused(browser)


async def test_rotated_keys_are_fetched_once_more_and_accepted(
    browser: httpx.AsyncClient, hostile: HostileProvider, hostile_app: Starlette
) -> None:
    await sign_in_with(browser, "hostile")
    assert await signed_in(browser)
    before = hostile.jwks_fetches[TENANT]
    hostile.rotate_keys()
    async with visitor(hostile_app) as other:
        response = await sign_in_with(other, "hostile")
        assert response.status_code == 303, response.text
        assert await signed_in(other)
    assert hostile.jwks_fetches[TENANT] == before + 1


async def test_a_key_id_unknown_even_after_one_more_fetch_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider, hostile_app: Starlette
) -> None:
    await sign_in_with(browser, "hostile")
    before = hostile.jwks_fetches[TENANT]
    act(hostile).signing = "unpublished-key"
    async with visitor(hostile_app) as other:
        await refused(other)
    # One more fetch, not one per attempt of an attacker's loop.
    assert hostile.jwks_fetches[TENANT] == before + 1


async def test_a_discovery_document_naming_another_issuer_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.get("/login/impostor", params={"next": "/me"})
    assert_friendly_failure(response, "sign_in_unverified")
    assert not await signed_in(browser)


async def test_a_mismatched_iss_on_the_authorization_response_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).response_iss = hostile.issuer("impostor")
    await refused(browser)


async def test_a_missing_iss_is_refused_when_the_provider_announces_it(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).response_iss = DROP
    await refused(browser)


async def test_a_userinfo_answer_about_someone_else_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).userinfo["sub"] = "somebody-else"
    await refused(browser)


async def test_a_token_answer_without_an_id_token_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).omit_id_token = True
    await refused(browser)


async def test_an_expired_code_ends_on_the_friendly_page(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).code_expired = True
    await refused(browser, "provider_error")


async def test_the_email_comes_from_userinfo_and_counts_only_if_verified_there(
    browser: httpx.AsyncClient, hostile: HostileProvider, hostile_app: Starlette
) -> None:
    address = f"{hostile.person.subject}@example.com"
    hostile.person.email = address
    await sign_in_with(browser, "hostile")
    identity = await Identity.get(provider="hostile", subject=hostile.person.subject)
    assert identity.email == address and identity.email_verified
    participant = await identity.participant
    assert participant.email == address and participant.email_verified

    hostile.person = Person(subject=hostile.person.subject + "-b", email="b@example.com")
    hostile.person.email_verified = False
    async with visitor(hostile_app) as other:
        await sign_in_with(other, "hostile")
    identity = await Identity.get(provider="hostile", subject=hostile.person.subject)
    assert identity.email == "b@example.com" and not identity.email_verified
    assert (await identity.participant).email is None


async def test_a_flow_older_than_its_lifetime_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider, hostile_app: Starlette
) -> None:
    authorize = await start(browser, "hostile")
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    flows = hostile_app.state.sign_in_flows
    assert isinstance(flows, SignInFlows)
    # Authlib keeps a flow under "_state_<provider>_<state>".
    key = flows.store.key(f"_state_hostile_{state}")
    redis = Redis.from_url(hostile_app.state.gymkana.settings.redis_url)
    try:
        stored = json.loads(await redis.get(key))
        stored["data"]["started_at"] -= FLOW_LIFETIME.total_seconds() + 1
        await redis.set(key, json.dumps(stored), keepttl=True)
    finally:
        await redis.aclose()
    response = await browser.get(local(await provider_answer(authorize)))
    assert_friendly_failure(response, "sign_in_expired")
    assert not await signed_in(browser)


async def test_a_token_issued_in_the_future_is_refused(
    browser: httpx.AsyncClient, hostile: HostileProvider
) -> None:
    act(hostile).claims["iat"] = int(time.time()) + 15 * 60
    await refused(browser)
