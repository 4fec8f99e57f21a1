"""Emailed sign-in links: single use, short-lived, stored only as a hash, and the
form never tells whether an address is known."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from contests import mail
from contests.brands import normalise_email
from contests.errors import N_, InvalidInput
from contests.ids import secret_token, token_hash
from contests.links import Links
from contests.models import SignInLink

PROVIDER = "email"


async def send_link(
    email: str,
    *,
    next_path: str,
    locale: str,
    now: datetime,
    links: Links,
    lifetime: timedelta,
    reply_to: str,
) -> int:
    """Queue a sign-in link for this address; returns the outbox message id."""
    address = normalise_email(email)
    token = secret_token()
    digest = token_hash(token)
    async with in_transaction():
        await SignInLink.create(
            token_hash=digest,
            email=address,
            next_path=next_path,
            locale=locale,
            created_at=now,
            expires_at=now + lifetime,
        )
        message = await mail.queue(
            kind="sign-in",
            dedupe_key=f"sign-in:{digest[:40]}",
            template="sign_in",
            to_email=address,
            to_name="",
            locale=locale,
            now=now,
            reply_to=reply_to,
            link=links.email_sign_in(token),
            minutes=int(lifetime.total_seconds() // 60),
        )
    return message.id


async def peek(token: str, now: datetime) -> SignInLink:
    """The link if it can still be used; reading it does not use it up."""
    link = await SignInLink.filter(token_hash=token_hash(token)).first()
    if link is None or link.used_at is not None:
        raise InvalidInput(
            N_("This sign-in link has already been used or is not valid. Ask for a new one."),
            "sign_in_link_used",
        )
    if link.expires_at <= now:
        raise InvalidInput(
            N_("This sign-in link has expired. Ask for a new one: it only takes a moment."),
            "sign_in_link_expired",
        )
    return link


async def redeem(token: str, now: datetime) -> SignInLink:
    """Use the link up; only one of two concurrent attempts succeeds."""
    link = await peek(token, now)
    used = await SignInLink.filter(id=link.id, used_at=None).update(used_at=now)
    if used != 1:
        raise InvalidInput(
            N_("This sign-in link has already been used or is not valid. Ask for a new one."),
            "sign_in_link_used",
        )
    return link
