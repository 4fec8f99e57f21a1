"""Counting a request against a rate limit, on the app's limiter."""

from __future__ import annotations

import hashlib

from starlette.requests import Request

from contests.errors import N_, Unavailable
from web.state import app_state

MAX_KEY = 64


def _key(part: str) -> str:
    """A key part Redis can store and that stays small whatever was sent: a long one or
    one that is not plain ASCII is replaced by its digest (so keys stay distinct)."""
    if len(part) <= MAX_KEY and part.isascii() and part.isprintable():
        return part
    digest = hashlib.sha256(part.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def rate_limit(request: Request, rule: str, *keys: str) -> None:
    """Count one attempt against a rule such as "5/15 minutes" for these keys."""
    limiter = app_state(request).limiter
    if limiter is None:
        raise Unavailable(
            N_("This is not available for a moment. Please try again in a minute."),
            "limits_unavailable",
        )
    await limiter.check(rule, *map(_key, keys))
