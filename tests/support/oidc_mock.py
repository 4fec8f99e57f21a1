"""A real OpenID Connect provider for the tests: the oidc-provider-mock package (Flask,
Authlib's server side) served by werkzeug on loopback."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import authlib.deprecate
import httpx

from tests.support.servers import wsgi_server

with warnings.catch_warnings():
    # It imports Authlib's own deprecated JOSE module; that is its business, not ours.
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    import oidc_provider_mock
    from oidc_provider_mock import User

__all__ = ["User", "consent", "oidc_provider", "register"]


@contextmanager
def oidc_provider(users: list[User] | None = None) -> Iterator[str]:
    """The provider on a free loopback port; yields its issuer (its base URL)."""
    app = oidc_provider_mock.app(require_nonce=True, user_claims=users or [])
    with wsgi_server(app) as base:
        yield base


async def consent(authorize_url: str, *, subject: str = "", deny: bool = False) -> str:
    """Answer the provider's consent form as a person would; returns where it redirects."""
    async with httpx.AsyncClient() as outside:
        form = await outside.get(authorize_url)
        assert form.status_code == 200, form.text
        assert "Authorize" in form.text
        choice = {"action": "deny"} if deny else {"sub": subject}
        answer = await outside.post(authorize_url, data=choice)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


async def register(issuer: str, subject: str, **claims: object) -> None:
    """Give a person at the provider these claims (email, email_verified, name...)."""
    async with httpx.AsyncClient() as outside:
        answer = await outside.put(f"{issuer}/users/{subject}", json=claims)
    assert answer.status_code == 204, answer.text
