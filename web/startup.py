"""What a process checks and prepares before it starts: the services it needs, and the
database's migrations. Exits with a message naming what to fix, never a stack trace."""

from __future__ import annotations

import asyncio
import logging
import sys
import time

from contests import db
from contests.settings import Settings

log = logging.getLogger("gymkana.startup")


def prepare_sqlite(settings: Settings) -> None:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


async def check_services(settings: Settings) -> None:
    """Fail fast, naming what is unreachable, instead of a stack trace at the first request."""
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001
        sys.exit(
            f"gymkana: cannot reach Redis at {settings.redis_url} ({exc}). "
            "Start Redis or set REDIS_URL."
        )
    finally:
        await client.aclose()


async def migrate(settings: Settings) -> None:
    """Apply pending migrations (under the database's migration lock), or exit saying why."""
    prepare_sqlite(settings)
    try:
        await db.migrate(settings.database_url)
    except Exception as exc:  # noqa: BLE001
        sys.exit(f"gymkana: cannot migrate the database at DATABASE_URL ({exc}).")


async def await_migrations(settings: Settings, wait_seconds: float) -> None:
    """For processes that do not migrate themselves: wait while another process applies
    the pending migrations, and exit naming the command to run if nobody does."""
    prepare_sqlite(settings)
    deadline = time.monotonic() + wait_seconds
    waiting = False
    while True:
        try:
            pending = await db.pending_migrations(settings.database_url)
        except Exception as exc:  # noqa: BLE001
            # A database that does not answer yet is not a reason to stay down: the web
            # app answers 503 (and /healthz says why) until it does.
            log.warning("cannot check the database's migrations (%s); starting anyway", exc)
            return
        if not pending:
            return
        if time.monotonic() >= deadline:
            sys.exit(
                f"gymkana: the database at DATABASE_URL lacks migrations {', '.join(pending)}. "
                "Run `gymkana migrate` (or `gymkana serve` without --no-migrate), then start "
                "this again."
            )
        if not waiting:
            log.info(
                "waiting up to %.0f s for `gymkana migrate` to apply %s",
                wait_seconds,
                ", ".join(pending),
            )
            waiting = True
        await asyncio.sleep(min(1.0, wait_seconds))
