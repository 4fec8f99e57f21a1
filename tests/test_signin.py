"""Emailed sign-in links and sessions: single use, expiring, hashed, renewed, revocable."""

from __future__ import annotations

import hashlib
import html
from datetime import timedelta
from typing import Any

import httpx
import pytest

from contests.clock import utcnow
from contests.models import SignInLink, WebSession
from tests.conftest import Mailbox, eventually
from tests.factories import csrf, csrf_of, email, link_in, sign_in


async def _ask_link(
    client: httpx.AsyncClient, address: str, next_path: str = "/"
) -> httpx.Response:
    token = await csrf(client, "/login")
    return await client.post(
        "/login/email", data={"email": address, "csrf_token": token, "next": next_path}
    )


async def test_a_sign_in_link_signs_in_once_and_only_once(
    client: httpx.AsyncClient, worker: Any, mailbox: Mailbox
) -> None:
    address = email()
    await sign_in(client, mailbox, address, "/me")
    me = await client.get("/me")
    assert me.status_code == 200 and address.split("@")[0].split("-")[0] in me.text.lower()

    path = link_in(mailbox, address)
    again = await client.get(path)
    assert again.status_code == 422
    assert "sign_in_link_used" in again.text


async def test_the_link_is_stored_only_as_a_hash(
    client: httpx.AsyncClient, worker: Any, mailbox: Mailbox
) -> None:
    address = email()
    await _ask_link(client, address)
    await eventually(lambda: _mail_for(mailbox, address))
    token = link_in(mailbox, address).rsplit("/", 1)[1]
    stored = await SignInLink.get(email=address)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not await SignInLink.filter(token_hash=token).exists()


async def test_an_expired_link_is_refused_with_a_way_forward(
    client: httpx.AsyncClient, worker: Any, mailbox: Mailbox
) -> None:
    address = email()
    await _ask_link(client, address)
    await eventually(lambda: _mail_for(mailbox, address))
    await SignInLink.filter(email=address).update(expires_at=utcnow() - timedelta(seconds=1))
    response = await client.get(link_in(mailbox, address))
    assert response.status_code == 422
    assert "sign_in_link_expired" in response.text


async def test_a_made_up_link_is_a_clear_error_not_a_crash(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/email/not-a-real-token")
    assert response.status_code == 422
    assert "<h1>" in response.text


async def test_the_form_does_not_tell_whether_an_address_is_known(
    client: httpx.AsyncClient, worker: Any, mailbox: Mailbox
) -> None:
    known = email()
    await sign_in(client, mailbox, known)
    first = await _ask_link(client, known)
    second = await _ask_link(client, email("stranger"))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == "/login/sent"


async def test_next_accepts_only_a_local_path(
    client: httpx.AsyncClient, worker: Any, mailbox: Mailbox
) -> None:
    address = email()
    await sign_in(client, mailbox, address, "https://evil.example/steal")
    # sign_in follows the flow; where did the final redirect go?
    stored = await SignInLink.get(email=address)
    assert stored.next_path == "/"
    for hostile in ("//evil.example/x", "/\\evil.example", "https:evil.example"):
        other = email()
        await _ask_link(client, other, hostile)
        assert (await SignInLink.get(email=other)).next_path == "/"


async def test_signing_in_renews_the_session_and_signing_out_ends_it_on_the_server(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    transport = httpx.ASGITransport(app=app, client=("10.2.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        await browser.get("/login")
        before = browser.cookies.get("gymkana")
        await sign_in(browser, mailbox, email(), "/me")
        after = browser.cookies.get("gymkana")
        assert before and after and before != after
        assert (await browser.get("/me")).status_code == 200

        stolen = dict(browser.cookies)
        page = await browser.get("/me")
        out = await browser.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303

    # Someone who kept the old cookie is not signed in any more.
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=stolen
    ) as thief:
        response = await thief.get("/me")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


async def test_session_cookie_is_httponly_and_samesite_lax(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_an_idle_session_expires(app: Any, worker: Any, mailbox: Mailbox) -> None:
    transport = httpx.ASGITransport(app=app, client=("10.2.0.2", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        address = email()
        await sign_in(browser, mailbox, address, "/me")
        await WebSession.filter(participant__email=address).update(
            last_seen_at=utcnow() - timedelta(days=1)
        )
        response = await browser.get("/me")
        assert response.status_code == 303


async def test_asking_for_links_too_often_is_rate_limited(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    transport = httpx.ASGITransport(app=app, client=("10.2.0.3", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        address = email()
        statuses = []
        for _ in range(7):
            response = await _ask_link(browser, address)
            statuses.append(response.status_code)
            if response.status_code == 303 and response.headers["location"] != "/login/sent":
                statuses[-1] = 429
        # Past the limit the form answers with the message, back on the form.
        assert statuses[:5] == [303] * 5
        refused = await _ask_link(browser, address)
        assert refused.headers["location"].startswith("/login")
        page = await browser.get(refused.headers["location"])
        assert "Too many attempts" in page.text or "Demasiados intentos" in page.text


async def test_a_post_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login/email", data={"email": email()})
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "csrf" not in page.text.lower() or "expired" in page.text or "caducado" in page.text
    assert not await SignInLink.filter(email=email()).exists()


async def test_an_overlong_address_is_refused_without_being_echoed(
    client: httpx.AsyncClient,
) -> None:
    address = "a" * 100_000 + "@example.com"
    response = await _ask_link(client, address)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    # The message lives in the session cookie until it is shown.
    assert len(response.headers["set-cookie"]) < 1000
    page = html.unescape((await client.get(response.headers["location"])).text)
    assert "“email” es demasiado largo (máximo 254 caracteres)." in page
    assert "a" * 100 not in page
    assert not await SignInLink.filter(email__startswith="a" * 100).exists()


@pytest.mark.parametrize(
    "template",
    ["{}\ufffd@example.com", "{}@exa\ufffdmple.com", "{}@example.com\r\nBcc: x@example.com"],
    ids=["invalid-bytes-local", "invalid-bytes-domain", "header-injection"],
)
async def test_an_address_with_invalid_characters_gets_no_link(
    client: httpx.AsyncClient, template: str
) -> None:
    local = email().split("@")[0]
    response = await _ask_link(client, template.format(local))
    assert response.headers["location"].startswith("/login")
    assert not await SignInLink.filter(email__startswith=local).exists()


async def test_an_address_is_kept_as_email_validator_normalises_it(
    client: httpx.AsyncClient,
) -> None:
    local = email().split("@")[0]
    response = await _ask_link(client, f"  {local.upper()}@Shop.EXAMPLE.com ")
    assert response.headers["location"] == "/login/sent"
    assert await SignInLink.filter(email=f"{local}@shop.example.com").exists()


async def _mail_for(mailbox: Mailbox, address: str) -> bool:
    return bool(mailbox.to(address))
