"""Small query helpers that keep Tortoise's loose typing out of the services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.queryset import QuerySet


async def column(query: QuerySet[Any], name: str) -> list[Any]:
    """One column of every row the query matches, in the query's order."""
    return [row[name] for row in await query.values(name)]


async def ids(query: QuerySet[Any], name: str = "id") -> list[int]:
    return [int(value) for value in await column(query, name)]


async def execute(sql: str, values: Sequence[object] = ()) -> list[Any]:
    """Run SQL written with ``?`` placeholders on the current connection (the open
    transaction's, if any); PostgreSQL gets them numbered. For set-based work that the
    ORM would do row by row."""
    client = connections.get("default")
    if client.capabilities.dialect == "postgres":
        parts = sql.split("?")
        sql = "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]
    _, rows = await client.execute_query(sql, list(values))
    return list(rows)
