"""Driving a sign-in through the real routes, the way a browser does: out to the
provider, and back to the callback with whatever the provider answered."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from contests.settings import Settings
from web.app import create_app

BASE = "http://testserver"


@asynccontextmanager
async def app_with(settings: Settings, environ: Mapping[str, str]) -> AsyncIterator[Starlette]:
    """The real app, with these sign-in providers configured."""
    application = create_app(settings, manage_database=False, environ=environ)
    async with application.router.lifespan_context(application):
        yield application


def visitor(app: Starlette, *, language: str = "en") -> httpx.AsyncClient:
    """A browser of its own: its own cookies, its own address; use with ``async with``."""
    transport = httpx.ASGITransport(
        app=app, client=(f"10.7.{secrets.randbelow(250)}.{secrets.randbelow(250)}", 4321)
    )
    return httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"Accept-Language": language}
    )


async def start(client: httpx.AsyncClient, provider: str, next_path: str = "/me") -> str:
    """Press the provider's button; returns the provider's authorization URL."""
    response = await client.get(f"/login/{provider}", params={"next": next_path})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert not location.startswith(BASE), location
    return location


def local(location: str) -> str:
    """The path and query of an address on our app (where the provider sends the browser)."""
    url = httpx.URL(location)
    assert url.host == "testserver", location
    return url.raw_path.decode()


async def provider_answer(authorize_url: str, **kwargs: Any) -> str:
    """What a provider that answers at once (no login form) redirects the browser to."""
    async with httpx.AsyncClient() as outside:
        answer = await outside.get(authorize_url, **kwargs)
    assert answer.status_code in (302, 303), answer.text
    return str(answer.headers["location"])


async def sign_in_with(
    client: httpx.AsyncClient, provider: str, next_path: str = "/me"
) -> httpx.Response:
    """A whole sign-in with a provider that answers at once; returns our callback's answer."""
    authorize = await start(client, provider, next_path)
    return await client.get(local(await provider_answer(authorize)))


async def signed_in(client: httpx.AsyncClient) -> bool:
    return (await client.get("/me")).status_code == 200


def assert_friendly_failure(response: httpx.Response, code: str, status: int = 422) -> None:
    """The sign-in page, with the reason, offering every way to try again; never a 500."""
    assert response.status_code == status, response.text[:500]
    assert f'data-error-code="{code}"' in response.text, response.text[:2000]
    assert 'data-testid="providers"' in response.text
    assert 'action="/login/email' in response.text
