"""Server-side session records: the cookie holds only a random id, so signing out
ends a session for good and idle or old sessions expire."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from contests.models import Participant, WebSession

# Writing last_seen_at on every request would make every page a write.
TOUCH_EVERY = timedelta(minutes=1)


async def start(participant: Participant, *, now: datetime, max_age: timedelta) -> WebSession:
    return await WebSession.create(
        id=secrets.token_urlsafe(32),
        participant=participant,
        created_at=now,
        last_seen_at=now,
        expires_at=now + max_age,
    )


async def resolve(session_id: str, *, now: datetime, idle: timedelta) -> Participant | None:
    session = (
        # One query with its participant: every signed-in page starts here.
        await WebSession.filter(id=session_id, revoked_at=None)
        .select_related("participant")
        .first()
    )
    if session is None or session.expires_at <= now or session.last_seen_at + idle <= now:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        await session.save(update_fields=["last_seen_at"])
    return session.participant


async def end(session_id: str, now: datetime) -> None:
    await WebSession.filter(id=session_id, revoked_at=None).update(revoked_at=now)
