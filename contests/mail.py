"""The outbox: every email is composed from templates in the recipient's language and
queued in the same transaction as the change that causes it. Sending is a worker's job."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from contests.links import Links
from contests.models import Brand, Outbox, OutboxStatus
from contests.queries import ids
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


async def due(now: datetime, limit: int = 100) -> list[int]:
    return await ids(
        Outbox.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .order_by("id")
        .limit(limit)
    )


async def waiting_message(message_id: int) -> Outbox | None:
    """The message if it still waits to be sent; None once sent, captured or given up."""
    message = await Outbox.filter(id=message_id).first()
    if message is None or message.status is not OutboxStatus.PENDING:
        return None
    return message


async def mark_sent(message: Outbox, now: datetime, *, captured: bool = False) -> None:
    message.status = OutboxStatus.CAPTURED if captured else OutboxStatus.SENT
    message.sent_at = now
    message.attempts += 1
    await message.save(update_fields=["status", "sent_at", "attempts"])


async def mark_failed(message: Outbox, error: str, now: datetime) -> None:
    message.attempts += 1
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
    else:
        message.next_attempt_at = now + _retry_delay(message.attempts)
    await message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


async def messages_for(brand: Brand | None, limit: int = 100) -> list[Outbox]:
    query = Outbox.filter(brand=brand) if brand is not None else Outbox.all()
    return await query.order_by("-id").limit(limit)
