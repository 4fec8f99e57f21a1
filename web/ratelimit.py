"""Counting a request against a rate limit, on the app's limiter."""

from __future__ import annotations

from starlette.requests import Request

from contests.errors import N_, Unavailable
from web.state import app_state


async def rate_limit(request: Request, rule: str, *keys: str) -> None:
    """Count one attempt against a rule such as "5/15 minutes" for these keys."""
    limiter = app_state(request).limiter
    if limiter is None:
        raise Unavailable(
            N_("This is not available for a moment. Please try again in a minute."),
            "limits_unavailable",
        )
    await limiter.check(rule, *keys)
