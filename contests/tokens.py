"""Signed, expiring tokens for every link that leaves the system (itsdangerous)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import zlib
from typing import Any

from itsdangerous import URLSafeTimedSerializer

from contests.errors import N_, InvalidInput

# A token is ``payload.timestamp.signature``, each part URL-safe base64 without padding;
# a payload that starts with "." was compressed with zlib (itsdangerous's format).
_SEP = b"."


def _expired() -> InvalidInput:
    return InvalidInput(
        N_("This link has expired. Go back to the contest page for a fresh one."),
        "link_expired",
    )


def _invalid() -> InvalidInput:
    return InvalidInput(
        N_(
            "This link is not valid: it may have been cut or changed. "
            "Go back to the contest page and follow the link from there."
        ),
        "link_invalid",
    )


def _b64decode(value: bytes) -> bytes:
    # As itsdangerous decodes: padding restored, characters outside the alphabet ignored.
    return base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))


class _Reader:
    """Reads one purpose's tokens exactly as itsdangerous's ``loads`` would, with the key
    derived once and the keyed hash prepared once: the beacon reads a token on every
    request, and a serializer made per call (a signer, a derived key, a fresh HMAC)
    cost more than everything else it does in process."""

    def __init__(self, serializer: URLSafeTimedSerializer) -> None:
        signer = serializer.make_signer(serializer.salt)
        self._mac = hmac.new(signer.derive_key(), digestmod=signer.digest_method)

    def __call__(self, token: str, max_age_seconds: int) -> Any:
        # Our tokens are ASCII; anything else (a lone surrogate from a JSON escape) is
        # not one of them.
        if not token.isascii():
            raise _invalid()
        signed, sep, signature = token.encode("ascii").rpartition(_SEP)
        if not sep:
            raise _invalid()
        mac = self._mac.copy()
        mac.update(signed)
        try:
            genuine = hmac.compare_digest(mac.digest(), _b64decode(signature))
        except (binascii.Error, ValueError):
            genuine = False
        payload, sep, stamp = signed.rpartition(_SEP)
        if not genuine or not sep:
            raise _invalid()
        try:
            signed_at = int.from_bytes(_b64decode(stamp), "big")
        except (binascii.Error, ValueError):
            raise _invalid() from None
        age = int(time.time()) - signed_at
        if age > max_age_seconds or age < 0:
            raise _expired()
        try:
            if payload.startswith(_SEP):
                return json.loads(zlib.decompress(_b64decode(payload[1:])))
            return json.loads(_b64decode(payload))
        except (binascii.Error, ValueError, zlib.error, RecursionError):
            # Signed by us, so never in practice; still a refusal, not a crash.
            raise _invalid() from None


class Tokens:
    """One serializer per purpose, so a token made for one use is refused for another."""

    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key
        self._readers: dict[str, _Reader] = {}

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
        """The payload of a token signed for ``purpose`` at most ``max_age_seconds`` ago;
        InvalidInput ("link_expired", "link_invalid") otherwise."""
        reader = self._readers.get(purpose)
        if reader is None:
            reader = self._readers[purpose] = _Reader(self._serializer(purpose))
        payload = reader(token, max_age_seconds)
        if not isinstance(payload, dict):
            raise InvalidInput(N_("This link is not valid."), "link_invalid")
        return payload
