"""Errors people meet: pages in their language, JSON on the API, security headers, and
never a crash (500) for anything a visitor can type into the address bar or send."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from tortoise import connections

from contests.models import SignInLink
from contests.settings import Settings
from tests.factories import (
    after_redirect,
    brand_with_marketer,
    csrf,
    email,
    live_contest,
    page_text,
)

NOT_FOUND_ES = "No hay nada en esta dirección."
NOT_FOUND_EN = "There is nothing at this address."
GARBAGE_MULTIPART = {
    "content": b"--zzz\r\ngarbage without headers or an end",
    "headers": {"Content-Type": "multipart/form-data; boundary=zzz"},
}


def _on_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgres")


def _assert_json_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == f"http_{status}" and error["message"]


async def test_an_unknown_page_is_a_404_in_spanish_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in response.text
    assert NOT_FOUND_ES in page_text(response)


async def test_an_unknown_page_speaks_the_browsers_language(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 404
    assert '<html lang="en">' in response.text
    assert NOT_FOUND_EN in page_text(response)


async def test_choosing_a_language_sticks_for_the_next_pages(client: httpx.AsyncClient) -> None:
    spanish = {"Accept-Language": "es-ES"}
    chosen = await client.get("/no-such-page?lang=en", headers=spanish)
    assert NOT_FOUND_EN in page_text(chosen)
    later = await client.get("/another-missing-page", headers=spanish)
    assert NOT_FOUND_EN in page_text(later)
    back = await client.get("/no-such-page?lang=es")
    assert NOT_FOUND_ES in page_text(back)
    assert NOT_FOUND_ES in page_text(await client.get("/no-such-page"))


async def test_an_unknown_language_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page?lang=xx", headers={"Accept-Language": "en"})
    assert NOT_FOUND_EN in page_text(response)


async def test_a_post_to_a_page_is_a_405_page_not_a_crash(client: httpx.AsyncClient) -> None:
    response = await client.post("/", data={"anything": "1"})
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert "Eso no se puede hacer así." in page_text(response)


async def test_a_405_says_which_methods_are_allowed(client: httpx.AsyncClient) -> None:
    response = await client.post("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


async def test_a_form_that_cannot_be_read_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/")
    response = await client.post("/logout", **GARBAGE_MULTIPART)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert "No hemos podido leer el formulario." in page_text(response)


async def test_a_form_with_a_file_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/")
    response = await client.post("/logout", files={"upload": ("a.txt", b"hello")})
    assert response.status_code == 422


async def test_an_unreadable_sign_in_form_goes_back_with_the_message(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/login")
    response = await client.post("/login/email", **GARBAGE_MULTIPART)  # type: ignore[arg-type]
    assert response.headers["location"].startswith("/login")
    assert "No hemos podido leer el formulario." in await after_redirect(client, response)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/nothing-here", 404),
        ("GET", "/api/beacon", 405),
        ("POST", "/api/visits/some-token", 405),
    ],
)
async def test_api_errors_are_json(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    _assert_json_error(await client.request(method, path), status)


async def test_a_client_asking_for_json_gets_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page", headers={"Accept": "application/json"})
    _assert_json_error(response, 404)


async def test_pages_carry_security_headers(client: httpx.AsyncClient) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    for path in ("/", "/login", f"/c/{contest.slug}", "/no-such-page", "/go/not-a-token"):
        response = await client.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path


async def test_json_answers_are_not_sniffed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/visits/not-a-token")
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/c/no-such-contest"),
        ("GET", "/c/no-such-contest/draw"),
        ("GET", "/c/no-such-contest/draw.json"),
        ("GET", "/go/not-a-token"),
        ("GET", "/auth/email/not-a-token"),
        ("GET", "/auth/email/" + "z" * 5000),
        ("GET", "/api/visits/%00"),
        ("GET", "/static/../pyproject.toml"),
        ("GET", "/static/%2e%2e/app.py"),
        ("GET", "/demo/mailbox"),
        ("GET", "/demo/mailbox/not-a-number"),
        ("GET", "/console/some-brand/contests/not-a-number"),
        ("GET", "/?lang=%00"),
        ("GET", "/login?next=//evil.example/"),
        ("POST", "/c/no-such-contest/enter"),
        ("POST", "/c/no-such-contest/steps/no-such-step"),
        ("POST", "/logout"),
        ("POST", "/api/beacon"),
    ],
)
async def test_odd_requests_never_crash(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, headers={"Accept-Language": "en;q=abc, es"})
    assert response.status_code < 500


@pytest.mark.parametrize(
    "path", ["/c/" + "x" * 81, "/c/" + "x" * 81 + "/draw", "/c/" + "x" * 81 + "/draw.json"]
)
async def test_an_overlong_contest_address_is_a_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404


async def test_a_nul_character_in_an_address_is_a_404(
    client: httpx.AsyncClient, settings: Settings, request: pytest.FixtureRequest
) -> None:
    response = await client.get("/c/%00")
    assert response.status_code == 404


async def test_an_overlong_next_is_dropped_not_a_crash(client: httpx.AsyncClient) -> None:
    address = email()
    response = await client.post(
        "/login/email",
        data={"csrf_token": await csrf(client), "email": address, "next": "/" + "x" * 600},
    )
    assert response.status_code == 303
    link = await SignInLink.get(email=address)
    assert link.next_path == "/"


async def test_an_address_with_a_control_character_is_refused(client: httpx.AsyncClient) -> None:
    address = "ana\x00" + email()
    response = await client.post(
        "/login/email", data={"csrf_token": await csrf(client), "email": address}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")
    assert not await SignInLink.filter(email__contains=address.split("\x00")[1]).exists()


async def test_a_form_to_the_console_without_signing_in_asks_to_sign_in(
    client: httpx.AsyncClient, app: Any
) -> None:
    brand, _ = await brand_with_marketer()
    response = await client.post(f"/console/{brand.slug}/contests", data={"title": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_a_write_while_another_process_holds_the_database_is_a_503_to_retry(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    path = settings.sqlite_path()
    if path is None:
        pytest.skip("only SQLite locks the whole database for one writer")
    token = await csrf(client)
    connection = connections.get("default")
    await connection.execute_script("PRAGMA busy_timeout = 200")
    other = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        answer = await client.post(
            "/login/email",
            data={"csrf_token": token, "email": email(), "next": "/"},
            headers={"Accept-Language": "en"},
        )
    finally:
        other.execute("ROLLBACK")
        other.close()
        await connection.execute_script("PRAGMA busy_timeout = 5000")
    assert answer.status_code == 503
    assert "not available for a moment" in answer.text
