"""The outbox: every email is composed from templates in the recipient's language and
queued in the same transaction as the change that causes it. Sending is a worker's job."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from contests.links import Links
from contests.models import Brand, Outbox, OutboxStatus, Participant
from contests.templating import render

MAX_ATTEMPTS = 8


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


async def queue(
    *,
    kind: str,
    dedupe_key: str,
    template: str,
    to_email: str,
    to_name: str,
    locale: str,
    now: datetime,
    reply_to: str,
    brand: Brand | None = None,
    links: Links | None = None,
    **context: Any,
) -> Outbox:
    """Queue one message; a second call with the same key returns the first message.

    With ``links``, a brand's message shows the brand's logo at its top.
    """
    existing = await Outbox.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    logo_url = links.media(brand.logo) if links and brand and brand.logo else ""
    context.update(to_name=to_name, brand=brand, logo_url=logo_url)
    subject = render(f"email/{template}.subject.txt", locale, **context).strip()
    try:
        return await Outbox.create(
            dedupe_key=dedupe_key,
            kind=kind,
            brand=brand,
            to_email=to_email,
            to_name=to_name,
            reply_to=reply_to,
            locale=locale,
            subject=" ".join(subject.split()),
            text_body=render(f"email/{template}.txt", locale, **context),
            html_body=render(f"email/{template}.html", locale, **context),
            created_at=now,
            next_attempt_at=now,
        )
    except IntegrityError:
        return await Outbox.get(dedupe_key=dedupe_key)


async def queue_to_participant(
    participant: Participant | None,
    *,
    locale: str,
    brand: Brand,
    kind: str,
    dedupe_key: str,
    template: str,
    now: datetime,
    links: Links | None = None,
    **context: Any,
) -> Outbox | None:
    """Queue one message from ``brand`` to a participant, in ``locale`` (the language the
    caller knows them by: their entry's or their account's), answered at the brand's
    reply-to address; None when they have no address to write to."""
    if participant is None or not participant.email:
        return None
    return await queue(
        kind=kind,
        dedupe_key=dedupe_key,
        template=template,
        to_email=participant.email,
        to_name=participant.display_name,
        locale=locale,
        now=now,
        reply_to=brand.reply_to,
        brand=brand,
        links=links,
        **context,
    )


def _abandoned(now: datetime) -> Q:
    # Held by a worker whose lease ran out: it died mid-send.
    return Q(status=OutboxStatus.SENDING, lease_until__lt=now)


def _due(now: datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | _abandoned(now)


async def due(now: datetime, limit: int = 100) -> list[tuple[int, int]]:
    """Messages to send now, each with its number of attempts so far (the job id of a
    new attempt differs from the one a dead worker left behind)."""
    rows = await Outbox.filter(_due(now)).order_by("id").limit(limit).values_list("id", "attempts")
    return [(message_id, attempts) for message_id, attempts in rows]


async def claim(message_id: int, now: datetime, *, lease: timedelta, domain: str) -> Outbox | None:
    """Take a message for one attempt, or None when it is not due or another worker
    holds it. One conditional UPDATE decides, so two workers never send it together.

    The attempt is counted here, before the SMTP conversation, and the message gets its
    Message-ID now if it has none yet: every later attempt reuses it.
    """
    # A job names its message when the message is due: its time is not checked again.
    takeable = Q(status=OutboxStatus.PENDING) | _abandoned(now)
    taken = await Outbox.filter(takeable, id=message_id).update(
        status=OutboxStatus.SENDING,
        lease_until=now + lease,
        attempts=F("attempts") + 1,
    )
    if not taken:
        return None
    message = await Outbox.get(id=message_id)
    if not message.message_id:
        message.message_id = make_msgid(domain=domain or None)
        await message.save(update_fields=["message_id"])
    return message


async def mark_sent(message: Outbox, now: datetime, *, captured: bool = False) -> None:
    """Handed over: the SMTP server accepted the message (or it was kept, without one)."""
    message.status = OutboxStatus.CAPTURED if captured else OutboxStatus.SENT
    message.sent_at = now
    message.lease_until = None
    await Outbox.filter(id=message.id, status=OutboxStatus.SENDING).update(
        status=message.status, sent_at=now, lease_until=None
    )


async def mark_failed(message: Outbox, error: str, now: datetime) -> None:
    message.last_error = error[:2000]
    message.lease_until = None
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
    else:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + _retry_delay(message.attempts)
    await Outbox.filter(id=message.id, status=OutboxStatus.SENDING).update(
        status=message.status,
        last_error=message.last_error,
        next_attempt_at=message.next_attempt_at,
        lease_until=None,
    )


async def messages_for(brand: Brand | None, limit: int = 100) -> list[Outbox]:
    query = Outbox.filter(brand=brand) if brand is not None else Outbox.all()
    return await query.order_by("-id").limit(limit)
