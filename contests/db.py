"""Database configuration shared by the web app, the worker, the CLI and the tests."""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

MODELS_APP = "models"
SQLITE_ENGINE = "contests.sqlite_engine"

# PostgreSQL advisory lock taken while migrating: any fixed number works as long as every
# Gymkana process uses the same one ("gymkana" in ASCII). Advisory locks belong to one
# database, so installations sharing a server do not wait for each other.
MIGRATION_LOCK_KEY = int.from_bytes(b"gymkana", "big")

log = logging.getLogger("gymkana.db")


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a PostgreSQL connection needs on its way back to the pool, beyond the
    rollback of an open transaction that asyncpg always does: nothing. Asyncpg's default
    runs a reset query (advisory locks, cursors, LISTEN, session settings) as one more
    round trip after every query, and Gymkana leaves none of those behind: settings are
    ``SET LOCAL``, and the one advisory lock (migrations) has a connection of its own."""


def connection_config(database_url: str) -> dict[str, Any]:
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    connection = expand_db_url(url)
    if connection["engine"] == "tortoise.backends.sqlite":
        connection["engine"] = SQLITE_ENGINE
    else:
        connection["credentials"]["reset"] = _keep_session
    return connection


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": connection_config(database_url)},
        "apps": {
            MODELS_APP: {
                "models": ["contests.models"],
                "migrations": "contests.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# What `gymkana makemigrations` compares the models with: only the models matter.
MIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")


async def migrate(database_url: str) -> None:
    """Apply every migration not yet applied; safe to run at each start, from several
    processes at once: they take turns, and the later ones find nothing left to apply."""
    async with migration_lock(database_url):
        try:
            await run_migrations(config=tortoise_config(database_url))
        finally:
            await close()


async def pending_migrations(database_url: str) -> list[str]:
    """The migrations this code has that the database has not applied yet, in order.

    Raises when the database cannot be reached: Tortoise's plan alone would take an
    unreachable database for an empty one."""
    config = tortoise_config(database_url)
    try:
        await Tortoise.init(config=config, init_connections=False)
        connection = get_connection("default")
        await connection.execute_query("SELECT 1")
        executor = MigrationExecutor(connection, {MODELS_APP: config["apps"][MODELS_APP]})
        plan = await executor.plan()
    finally:
        await close()
    return [step.migration.name for step in plan if not step.backward]


@asynccontextmanager
async def migration_lock(database_url: str) -> AsyncIterator[None]:
    """Hold the database's migration lock: one process migrates, the others wait their turn."""
    connection = connection_config(database_url)
    credentials = connection["credentials"]
    if connection["engine"] != SQLITE_ENGINE:
        async with _advisory_lock(credentials):
            yield
    elif credentials["file_path"] == ":memory:":
        # A database in memory belongs to one process: nobody to wait for.
        yield
    else:
        async with _file_lock(Path(f"{credentials['file_path']}.migrate.lock")):
            yield


@asynccontextmanager
async def _advisory_lock(credentials: dict[str, Any]) -> AsyncIterator[None]:
    # A connection of its own, outside Tortoise's pool: the lock is held by this session
    # for as long as migrating takes, and released by the server if the process dies.
    keys = ("host", "port", "user", "password", "database", "ssl")
    lock = await asyncpg.connect(**{k: credentials[k] for k in keys if k in credentials})
    try:
        if not await lock.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_KEY):
            log.info("another process is migrating the database; waiting for it")
            await lock.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        yield
    finally:
        # Ending the session releases its advisory locks.
        await lock.close()


@asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    # SQLite's own locks last one transaction and Tortoise's runner commits after each
    # migration; an exclusive lock on a file beside the database spans the whole run.
    # The file stays: removing it would let a waiting process lock a file nobody else sees.
    with path.open("a") as handle:
        waiting = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    log.info("another process is migrating the database; waiting for it")
                    waiting = True
                # Polling, not a blocking flock in a thread, so that Ctrl-C still stops us.
                await asyncio.sleep(0.05)
        # Closing the file releases the lock, whatever happens inside.
        yield


async def close() -> None:
    """Close connections and forget the models' binding, so a later init may use
    another database (the tests run on SQLite, then on PostgreSQL)."""
    await Tortoise.close_connections()
    await Tortoise._reset_apps()
