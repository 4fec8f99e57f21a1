"""A participant's consent to a contest's rules and privacy notice: which version they
accepted and when, and accepting a newer one before going on."""

from __future__ import annotations

from datetime import datetime

from contests.errors import N_, Conflict
from contests.models import Contest, Entry


def must_accept_again(contest: Contest, entry: Entry) -> bool:
    return entry.consent_version != contest.rules_version


def require_current_consent(contest: Contest, entry: Entry) -> None:
    if must_accept_again(contest, entry):
        raise Conflict(
            N_("The rules have changed: read them and accept them again to go on."),
            "consent_outdated",
        )


async def accept(contest: Contest, entry: Entry, *, version: str, now: datetime) -> None:
    """Record the participant's consent to the version they were shown."""
    if version != contest.rules_version:
        raise Conflict(
            N_("The rules changed while you were reading them: read the new version."),
            "consent_stale",
        )
    await Entry.filter(id=entry.id).update(consent_version=version, consented_at=now)
    entry.consent_version, entry.consented_at = version, now
