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
from contests.errors import N_, Conflict
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
                # A savepoint: on PostgreSQL a failed insert would abort the whole
                # transaction, and the clean-up below must still run.
                async with in_transaction():
                    identity = await _new_identity(participant, profile, now)
            except IntegrityError:
                # Two first sign-ins raced; the other one made the account.
                await participant.delete()
                identity = await Identity.get(
                    provider=profile.provider, subject=profile.subject
                ).prefetch_related("participant")
        else:
            # Keep what the provider says now, not what it said the first time.
            identity.last_used_at = now
            identity.email = profile.email
            identity.email_verified = profile.email_verified
            identity.display_name = profile.display_name
            await identity.save(
                update_fields=["last_used_at", "email", "email_verified", "display_name"]
            )
        participant = identity.participant
        if profile.email and profile.email_verified:
            await link_marketer_roles(participant, profile.email)
    return participant


async def _new_identity(participant: Participant, profile: Profile, now: datetime) -> Identity:
    return await Identity.create(
        participant=participant,
        provider=profile.provider,
        subject=profile.subject,
        email=profile.email,
        email_verified=profile.email_verified,
        display_name=profile.display_name,
        created_at=now,
        last_used_at=now,
    )


def _name_from_email(email: str | None) -> str:
    if not email:
        return ""
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)


async def link_identity(
    participant: Participant, profile: Profile, *, now: datetime, label: str
) -> bool:
    """Add an identity to a signed-in person's account, at their explicit request.

    True when it is new, False when it was already theirs. An identity that belongs to
    another account stays there (Conflict): accounts are never merged.
    """
    async with in_transaction():
        existing = await Identity.filter(provider=profile.provider, subject=profile.subject).first()
        if existing is not None:
            if existing.participant_id != participant.id:  # type: ignore[attr-defined]
                raise _taken(label)
            existing.last_used_at = now
            await existing.save(update_fields=["last_used_at"])
            return False
        try:
            await _new_identity(participant, profile, now)
        except IntegrityError:
            # Someone else linked or signed in with it a moment ago.
            raise _taken(label) from None
        if profile.email and profile.email_verified:
            if not participant.email:
                participant.email = profile.email
                participant.email_verified = True
                await participant.save(update_fields=["email", "email_verified"])
            await link_marketer_roles(participant, profile.email)
    return True


def _taken(label: str) -> Conflict:
    return Conflict(
        N_(
            "That %(provider)s account already belongs to another Gymkana account, so we "
            "did not link it. Sign in with it to use that account, or link a different one."
        ),
        "identity_taken",
        provider=label,
    )


async def identities_of(participant: Participant) -> list[Identity]:
    return await Identity.filter(participant=participant).order_by("created_at")
