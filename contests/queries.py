"""Small query helpers that keep Tortoise's loose typing out of the services."""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet


async def column(query: QuerySet[Any], name: str) -> list[Any]:
    """One column of every row the query matches, in the query's order."""
    return [row[name] for row in await query.values(name)]


async def ids(query: QuerySet[Any], name: str = "id") -> list[int]:
    return [int(value) for value in await column(query, name)]
