"""Rate limits on Redis (the `limits` library), shared by every web process."""

from __future__ import annotations

import hashlib
import logging

from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool
from starlette.requests import Request

from contests.errors import N_, RateLimited, Unavailable
from web.state import app_state

log = logging.getLogger("gymkana.ratelimit")


class Limiter:
    """Moving-window limits kept in Redis, on the app's own connection pool."""

    def __init__(self, redis_url: str, prefix: str, connection_pool: ConnectionPool) -> None:
        storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            key_prefix=f"{prefix}:limits",
            connection_pool=connection_pool,  # type: ignore[arg-type]
        )
        self._limiter = MovingWindowRateLimiter(storage)

    async def check(self, rule: str, *keys: str) -> None:
        """Count one attempt; raise RateLimited once the rule's budget is spent."""
        try:
            allowed = await self._limiter.hit(parse(rule), *keys)
        except Exception as exc:  # noqa: BLE001 - any storage failure
            # Failing closed: an outage must not open the door to guessing codes.
            log.error("rate limit store unavailable: %s", exc)
            raise Unavailable(
                N_("This is not available for a moment. Please try again in a minute."),
                "limits_unavailable",
            ) from None
        if not allowed:
            raise RateLimited(
                N_("Too many attempts. Wait a few minutes and try again."), "rate_limited"
            )


MAX_KEY = 64


def _key(part: str) -> str:
    """A key part Redis can store and that stays small whatever was sent: a long one or
    one that is not plain ASCII is replaced by its digest (so keys stay distinct)."""
    if len(part) <= MAX_KEY and part.isascii() and part.isprintable():
        return part
    digest = hashlib.sha256(part.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


async def rate_limit(request: Request, rule: str, *keys: str) -> None:
    """Count one attempt against a rule such as "5/15 minutes" for these keys."""
    limiter = app_state(request).limiter
    if limiter is None:
        raise Unavailable(
            N_("This is not available for a moment. Please try again in a minute."),
            "limits_unavailable",
        )
    await limiter.check(rule, *map(_key, keys))
