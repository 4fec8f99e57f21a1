"""Identifiers that leave the system: random, never sequential database ids."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata


def public_id() -> str:
    """16 URL-safe characters, 96 bits of randomness."""
    return secrets.token_urlsafe(12)


def secret_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def slugify(text: str, max_length: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "contest"
