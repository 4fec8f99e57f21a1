"""Accounts and their sign-in identities.

An identity is (provider, subject). Two identities are never merged because an email
matches: a new identity makes a new account unless a signed-in person links it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from contests.brands import link_marketer_roles
from contests.ids import public_id
from contests.models import Identity, Participant


@dataclass(frozen=True)
class Profile:
    """What Gymkana keeps from a provider, and nothing more."""

    provider: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    display_name: str = ""
    avatar_url: str | None = None
    locale: str | None = None


async def sign_in(profile: Profile, *, locale: str, now: datetime) -> Participant:
    """The account behind this identity, created at its first sign-in."""
    async with in_transaction():
        identity = (
            await Identity.filter(provider=profile.provider, subject=profile.subject)
            .prefetch_related("participant")
            .first()
        )
        if identity is None:
            participant = await Participant.create(
                public_id=public_id(),
                display_name=profile.display_name or _name_from_email(profile.email),
                email=profile.email if profile.email_verified else None,
                email_verified=bool(profile.email and profile.email_verified),
                locale=profile.locale or locale,
                avatar_url=profile.avatar_url,
            )
            try:
                identity = await Identity.create(
                    participant=participant,
                    provider=profile.provider,
                    subject=profile.subject,
                    email=profile.email,
                    email_verified=profile.email_verified,
                    display_name=profile.display_name,
                    created_at=now,
                    last_used_at=now,
                )
            except IntegrityError:
                # Two first sign-ins raced; the other one made the account.
                await participant.delete()
                identity = await Identity.get(
                    provider=profile.provider, subject=profile.subject
                ).prefetch_related("participant")
        else:
            identity.last_used_at = now
            await identity.save(update_fields=["last_used_at"])
        participant = identity.participant
        if profile.email and profile.email_verified:
            await link_marketer_roles(participant, profile.email)
    return participant


def _name_from_email(email: str | None) -> str:
    if not email:
        return ""
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)


async def identities_of(participant: Participant) -> list[Identity]:
    return await Identity.filter(participant=participant).order_by("created_at")
