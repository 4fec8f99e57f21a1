"""A closed contest's frozen list, kept as rows: filled set-based in short batches, read
back in the published order a batch at a time, so that a million entries never sit in
memory as objects nor hold the database's write lock for long."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime

from tortoise.transactions import in_transaction

from contests import draw
from contests.entries import eligible_lines_sql
from contests.models import EntryStatus, ListedEntry
from contests.queries import execute

# Entry ids per batch while filling, and lines per batch while reading: each batch is
# one short statement (SQLite lets other writers in between).
FILL_BATCH = 20_000
READ_BATCH = 50_000


async def fill(contest_id: int, closed_at: datetime, required: list[int]) -> None:
    """Write the list of the contest's eligible entries at ``closed_at``, replacing any
    left by an attempt that did not finish."""
    await ListedEntry.filter(contest_id=contest_id).delete()
    [bounds] = await execute(
        "SELECT MIN(id), MAX(id) FROM entry WHERE contest_id = ?", [contest_id]
    )
    first, last = bounds[0], bounds[1]
    if first is None:
        return
    insert = "INSERT INTO listed_entry (contest_id, pseudonym, weight) " + eligible_lines_sql(
        len(required)
    )
    for start in range(int(first), int(last) + 1, FILL_BATCH):
        async with in_transaction():
            await execute(
                insert,
                [
                    closed_at,
                    contest_id,
                    start,
                    start + FILL_BATCH,
                    closed_at,
                    EntryStatus.DISQUALIFIED.value,
                    *required,
                    *([len(required)] if required else []),
                ],
            )


async def batches(contest_id: int) -> AsyncIterator[list[tuple[str, int]]]:
    """The list's (pseudonym, weight) lines in published order, a batch at a time."""
    after = ""
    while True:
        rows = await execute(
            "SELECT pseudonym, weight FROM listed_entry WHERE contest_id = ? AND pseudonym > ? "
            "ORDER BY pseudonym LIMIT ?",
            [contest_id, after, READ_BATCH],
        )
        if not rows:
            return
        batch = [(str(row[0]), int(row[1])) for row in rows]
        yield batch
        after = batch[-1][0]


async def digest(contest_id: int) -> tuple[str, int]:
    """The list's digest as published (see ``draw.list_digest``) and its length."""
    hasher = hashlib.sha256()
    count = 0
    async for batch in batches(contest_id):
        hasher.update("".join(draw.canonical_line(p, w) for p, w in batch).encode("utf-8"))
        count += len(batch)
    return hasher.hexdigest(), count


async def columns(contest_id: int) -> tuple[list[str], list[int]]:
    """The whole list as two parallel columns, the lightest shape a draw can take."""
    pseudonyms: list[str] = []
    weights: list[int] = []
    async for batch in batches(contest_id):
        pseudonyms.extend(p for p, _ in batch)
        weights.extend(w for _, w in batch)
    return pseudonyms, weights


async def includes(contest_id: int, pseudonym: str) -> bool:
    return await ListedEntry.exists(contest_id=contest_id, pseudonym=pseudonym)
