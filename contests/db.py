"""Database configuration shared by the web app, the worker, the CLI and the tests."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

MODELS_APP = "models"


def connection_config(database_url: str) -> dict[str, Any]:
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    connection = expand_db_url(url)
    if connection["engine"] == "tortoise.backends.sqlite":
        connection["engine"] = "contests.sqlite_engine"
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
    """Apply every migration not yet applied; safe to run at each start."""
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await close()


async def close() -> None:
    """Close connections and forget the models' binding, so a later init may use
    another database (the tests run on SQLite, then on PostgreSQL)."""
    await Tortoise.close_connections()
    await Tortoise._reset_apps()
