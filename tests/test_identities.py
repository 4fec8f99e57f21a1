"""Identities: keyed by (provider, subject), refreshed at each sign-in, never merged."""

from __future__ import annotations

from typing import Any

from contests.clock import utcnow
from contests.models import Identity
from oauth.identities import Profile, sign_in
from tests.factories import email, unique


async def test_a_later_sign_in_keeps_what_the_provider_says_now(database_url: Any) -> None:
    subject = unique("sub")
    first = await sign_in(
        Profile("github", subject, email("old"), email_verified=False, display_name="Ana"),
        locale="es",
        now=utcnow(),
    )
    address = email("new")
    again = await sign_in(
        Profile("github", subject, address, email_verified=True, display_name="Ana G."),
        locale="es",
        now=utcnow(),
    )
    assert again.id == first.id
    identity = await Identity.get(provider="github", subject=subject)
    assert (identity.email, identity.email_verified, identity.display_name) == (
        address,
        True,
        "Ana G.",
    )


async def test_the_same_verified_email_at_two_providers_makes_two_accounts(
    database_url: Any,
) -> None:
    address = email("twice")
    at_google = await sign_in(
        Profile("google", unique("g"), address, email_verified=True), locale="es", now=utcnow()
    )
    at_github = await sign_in(
        Profile("github", unique("h"), address, email_verified=True), locale="es", now=utcnow()
    )
    assert at_google.id != at_github.id
