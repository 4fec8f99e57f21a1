"""Delivering one outbox message over SMTP (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from contests.models import Outbox


def build(message: Outbox, mail_from: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = (
        formataddr((message.to_name, message.to_email)) if message.to_name else message.to_email
    )
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2].strip("> ") or None)
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    # After the content: set_content() drops every Content-* header set before it.
    email["Content-Language"] = message.locale
    return email


async def deliver(message: Outbox, *, smtp_url: str, mail_from: str) -> None:
    """Send through the SMTP server named by smtp://, smtps:// or smtp+starttls:// URL."""
    parts = urlsplit(smtp_url)
    implicit_tls = parts.scheme == "smtps"
    await aiosmtplib.send(
        build(message, mail_from),
        hostname=parts.hostname or "127.0.0.1",
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        start_tls=parts.scheme == "smtp+starttls",
        timeout=20,
    )
