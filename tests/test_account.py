"""The participant's account: linked identities, linking one more (never merging two
accounts), downloading everything held about them, and deleting the account."""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from contests import closing, entries
from contests.clock import utcnow
from contests.draw import chain_genesis, replay_chain
from contests.models import (
    Completion,
    Contest,
    Entry,
    EntryStatus,
    Identity,
    Participant,
    Step,
    WebSession,
)
from contests.settings import Settings
from tests.factories import LINKS, brand_with_marketer, csrf_of, frozen_list, live_contest
from tests.support.flows import app_with, local, signed_in, start, visitor
from tests.support.oidc_mock import consent, oidc_provider, register
from web.app import app_links


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider() as base:
        yield base


@pytest.fixture(scope="module")
async def account_app(settings: Settings, issuer: str) -> AsyncIterator[Starlette]:
    environ = {
        "OIDC_PROVIDERS": "mock",
        "OIDC_MOCK_ISSUER": issuer,
        "OIDC_MOCK_CLIENT_ID": "gymkana-web",
        "OIDC_MOCK_CLIENT_SECRET": "mock-secret-" + "m" * 20,
        "OIDC_MOCK_LABEL": "Mock ID",
        "GOOGLE_CLIENT_ID": "google-client",
        "GOOGLE_CLIENT_SECRET": "google-secret",
        "GOOGLE_ISSUER": issuer,
    }
    async with app_with(settings, environ) as app:
        yield app


@pytest.fixture
async def browser(account_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with visitor(account_app) as client:
        yield client


def subject() -> str:
    return f"account-{secrets.token_hex(4)}"


async def sign_in(client: httpx.AsyncClient, provider: str, who: str) -> Participant:
    authorize = await start(client, provider, "/me")
    response = await client.get(local(await consent(authorize, subject=who)))
    assert response.status_code == 303, response.text
    identity = await Identity.get(provider=provider, subject=who).prefetch_related("participant")
    return identity.participant


async def link(client: httpx.AsyncClient, provider: str, who: str) -> str:
    """Press "Link <provider>" on the account page; returns the page we end on."""
    page = await client.get("/me")
    response = await client.post(f"/me/link/{provider}", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303, response.text
    back = await client.get(local(await consent(response.headers["location"], subject=who)))
    assert back.status_code == 303 and back.headers["location"] == "/me", back.text
    return html.unescape((await client.get("/me")).text)


async def test_the_account_page_shows_identities_and_lets_forms_reach_the_providers(
    browser: httpx.AsyncClient, issuer: str
) -> None:
    await sign_in(browser, "mock", subject())
    page = await browser.get("/me")
    assert 'data-provider="mock"' in page.text and "Mock ID" in page.text
    assert 'action="/me/link/google"' in page.text and 'action="/me/link/mock"' in page.text
    # A form's redirect to another site is held to form-action by browsers.
    policy = page.headers["content-security-policy"]
    assert f"form-action 'self' {issuer}" in policy


async def test_linking_a_second_provider_adds_it_to_the_same_account(
    browser: httpx.AsyncClient, account_app: Starlette, issuer: str
) -> None:
    first, second = subject(), subject()
    await register(issuer, second, email=f"{second}@example.com", email_verified=True)
    me = await sign_in(browser, "mock", first)
    page = await link(browser, "google", second)
    assert "Done! You can now also sign in with Google." in page
    linked = await Identity.get(provider="google", subject=second)
    assert linked.participant_id == me.id  # type: ignore[attr-defined]
    # The account had no verified email; now it has the linked one.
    assert (await Participant.get(id=me.id)).email == f"{second}@example.com"

    async with visitor(account_app) as elsewhere:
        assert (await sign_in(elsewhere, "google", second)).id == me.id


async def test_linking_an_identity_of_another_account_is_refused_never_merged(
    browser: httpx.AsyncClient, account_app: Starlette
) -> None:
    mine, theirs = subject(), subject()
    me = await sign_in(browser, "mock", mine)
    async with visitor(account_app) as other:
        them = await sign_in(other, "google", theirs)
    page = await link(browser, "google", theirs)
    assert "That Google account already belongs to another Gymkana account" in page
    assert (await Identity.get(provider="google", subject=theirs)).participant_id == them.id  # type: ignore[attr-defined]
    assert await Identity.filter(participant_id=me.id).count() == 1
    assert await signed_in(browser)


async def test_a_cancelled_link_goes_back_to_the_account_still_signed_in(
    browser: httpx.AsyncClient,
) -> None:
    me = await sign_in(browser, "mock", subject())
    page = await browser.get("/me")
    response = await browser.post("/me/link/google", data={"csrf_token": csrf_of(page.text)})
    authorize = response.headers["location"]
    denied = await consent(authorize, deny=True)
    # RFC 6749 4.1.2.1 has the error carry the state back; the test provider leaves it out.
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    back = await browser.get(local(f"{denied}&{urlencode({'state': state})}"))
    assert back.status_code == 303 and back.headers["location"] == "/me"
    after = html.unescape((await browser.get("/me")).text)
    assert "You cancelled signing in with Google" in after
    assert await Identity.filter(participant_id=me.id).count() == 1


async def test_a_link_finished_after_the_session_ended_links_nothing(
    browser: httpx.AsyncClient,
) -> None:
    me = await sign_in(browser, "mock", subject())
    page = await browser.get("/me")
    response = await browser.post("/me/link/google", data={"csrf_token": csrf_of(page.text)})
    # The session ends (idle, or signed out elsewhere) while the person is at the provider.
    await WebSession.filter(participant_id=me.id).update(revoked_at=utcnow())
    back = await browser.get(local(await consent(response.headers["location"], subject=subject())))
    assert back.status_code == 303 and back.headers["location"].startswith("/login")
    assert await Identity.filter(participant_id=me.id).count() == 1
    assert not await signed_in(browser)


async def test_linking_needs_a_signed_in_person_and_the_form_token(
    browser: httpx.AsyncClient,
) -> None:
    anonymous = await browser.post("/me/link/google", data={"csrf_token": "x"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")

    await sign_in(browser, "mock", subject())
    forged = await browser.post("/me/link/google", data={"csrf_token": "forged"})
    assert forged.status_code == 303 and forged.headers["location"] == "/me"


async def test_my_data_downloads_as_json(
    browser: httpx.AsyncClient, account_app: Starlette
) -> None:
    who = subject()
    me = await sign_in(browser, "mock", who)
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    entry = await entries.enter(contest, me, consented=True, locale="en", now=utcnow())

    response = await browser.get("/me/data.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert data["account"]["id"] == me.public_id
    assert [(i["provider"], i["subject"]) for i in data["sign_in_identities"]] == [("mock", who)]
    assert data["entries"][0]["pseudonymous_id"] == entry.public_id
    assert data["entries"][0]["contest"]["slug"] == contest.slug
    assert data["sessions"] and "id" not in data["sessions"][0]

    async with visitor(account_app) as stranger:
        refused = await stranger.get("/me/data.json")
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


async def test_deleting_needs_the_confirmation_box(browser: httpx.AsyncClient) -> None:
    me = await sign_in(browser, "mock", subject())
    page = await browser.get("/me")
    response = await browser.post("/me/delete", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    after = html.unescape((await browser.get(response.headers["location"])).text)
    assert "Tick the box to confirm" in after
    assert await Participant.filter(id=me.id).exists()


async def test_deleting_the_account_signs_out_and_keeps_only_what_the_draw_needs(
    browser: httpx.AsyncClient, settings: Settings
) -> None:
    who = subject()
    me = await sign_in(browser, "mock", who)
    brand, _ = await brand_with_marketer()
    drawn, still_open = await live_contest(brand), await live_contest(brand)
    kept = await _complete_entry(drawn, me)
    withdrawn = await _complete_entry(still_open, me)
    await closing.close(drawn.id, utcnow())
    await closing.run_draw(drawn.id, utcnow(), links=app_links(settings))

    page = await browser.get("/me")
    response = await browser.post(
        "/me/delete", data={"csrf_token": csrf_of(page.text), "confirm": "yes"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert not await signed_in(browser)
    assert not await Participant.filter(id=me.id).exists()
    assert not await Identity.filter(provider="mock", subject=who).exists()
    assert not await WebSession.filter(participant_id=me.id).exists()

    # The drawn contest still names the entry by its pseudonym, linked to nobody.
    entry = await Entry.get(id=kept.id)
    assert entry.participant_id is None and entry.public_id == kept.public_id  # type: ignore[attr-defined]
    assert kept.public_id in [p for p, _ in await frozen_list(drawn)]
    # The open contest's entry leaves the draw but keeps its link in the hash chain.
    gone = await Entry.get(id=withdrawn.id)
    assert gone.participant_id is None and gone.status is EntryStatus.DISQUALIFIED  # type: ignore[attr-defined]
    assert not await Completion.filter(entry_id=withdrawn.id).exists()
    chain = await Entry.filter(contest_id=still_open.id).order_by("id")
    open_contest = await Contest.get(id=still_open.id)
    assert open_contest.seed_commitment is not None
    start = chain_genesis(open_contest.slug, open_contest.seed_commitment)
    assert replay_chain(((e.public_id, e.created_at) for e in chain), start) == (
        open_contest.entry_chain_head
    )

    # The same identity signs in again as somebody new.
    again = await sign_in(browser, "mock", who)
    assert again.id != me.id
    assert not await Entry.filter(participant_id=again.id).exists()


async def _complete_entry(contest: Contest, person: Participant) -> Entry:
    entry = await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
    for step in await Step.filter(contest=contest):
        await entries.record_completion(entry, step, utcnow(), links=LINKS)
    return entry
