"""Signed, expiring tokens for every link that leaves the system (itsdangerous)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from contests.errors import N_, InvalidInput


class Tokens:
    """One serializer per purpose, so a token made for one use is refused for another."""

    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret_key, salt=f"gymkana.{purpose}")

    def sign(self, purpose: str, payload: dict[str, Any]) -> str:
        token: str = self._serializer(purpose).dumps(payload)
        return token

    def digest(self, purpose: str, value: str) -> str:
        """A keyed hash of ``value``: equal values give equal digests, and without the
        secret key nobody can tell which value one was made from (128 bits, in hex)."""
        key = hashlib.sha256(f"gymkana.{purpose}:{self._secret_key}".encode()).digest()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]

    def read(self, purpose: str, token: str, max_age_seconds: int) -> dict[str, Any]:
        try:
            # Our tokens are ASCII; anything else (a lone surrogate from a JSON escape)
            # would fail to encode inside the serializer instead of failing to verify.
            if not token.isascii():
                raise BadSignature("not a token")
            payload = self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired:
            raise InvalidInput(
                N_("This link has expired. Go back to the contest page for a fresh one."),
                "link_expired",
            ) from None
        except BadSignature:
            raise InvalidInput(
                N_(
                    "This link is not valid: it may have been cut or changed. "
                    "Go back to the contest page and follow the link from there."
                ),
                "link_invalid",
            ) from None
        if not isinstance(payload, dict):
            raise InvalidInput(N_("This link is not valid."), "link_invalid")
        return payload
