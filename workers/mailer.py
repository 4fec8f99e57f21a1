"""Delivering one outbox message over SMTP (aiosmtplib)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from contests.models import Outbox

log = logging.getLogger("gymkana.mail")


def build(message: Outbox, mail_from: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = (
        formataddr((message.to_name, message.to_email)) if message.to_name else message.to_email
    )
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Subject"] = message.subject
    # Fixed when the message was first taken for sending (contests.mail.claim): a retry
    # carries the same id, so a copy that did get through is recognisably the same.
    email["Message-ID"] = message.message_id
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    # After the content: set_content() drops every Content-* header set before it.
    email["Content-Language"] = message.locale
    return email


def mail_domain(mail_from: str) -> str:
    return mail_from.rpartition("@")[2].strip("> ")


async def deliver(
    message: Outbox,
    *,
    smtp_url: str,
    mail_from: str,
    handed_over: Callable[[], Awaitable[None]],
) -> None:
    """Send through the SMTP server named by smtp://, smtps:// or smtp+starttls:// URL.

    ``handed_over`` runs the moment the server accepts the message, before the goodbye:
    a worker that dies while the server takes its time to close the conversation has
    already recorded that the message went out. A failed goodbye is only logged."""
    parts = urlsplit(smtp_url)
    implicit_tls = parts.scheme == "smtps"
    client = aiosmtplib.SMTP(
        hostname=parts.hostname or "127.0.0.1",
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        start_tls=parts.scheme == "smtp+starttls",
        timeout=20,
    )
    await client.connect()
    try:
        await client.send_message(build(message, mail_from))
    except BaseException:
        client.close()
        raise
    await handed_over()
    try:
        await client.quit()
    except aiosmtplib.SMTPException as exc:
        log.info("message %s handed over; the server's goodbye failed: %s", message.id, exc)
        client.close()
