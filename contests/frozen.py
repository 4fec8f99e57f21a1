"""A closed contest's frozen list, kept as the text it is published as.

Freezing reads the eligible lines once, in short read-only batches by entry id, sorts
them in memory, and writes them in published order as runs of ``LINES_PER_ROW`` lines
(``FrozenLines``), hashing each run as it goes: the digest costs no second read, nothing
holds a write lock while the list is computed, and SQLite's write lock is taken only for
a few short batches of rows. A million entries never sit in memory as ORM objects. The
draw reads the runs back in order, a batch at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime

from tortoise.transactions import in_transaction

from contests.entries import eligible_lines_sql
from contests.models import EntryStatus, FrozenLines
from contests.queries import execute

# Entry ids per read while freezing (PostgreSQL aggregates a batch in memory, not on
# disk); lines per stored run; runs per write transaction and per read. Each batch is
# one short statement, and SQLite lets other writers in between. A run of 1,000 lines
# is about 25 KB, what `includes` reads.
FILL_BATCH = 50_000
LINES_PER_ROW = 1_000
ROWS_PER_BATCH = 50


async def freeze(contest_id: int, closed_at: datetime, required: list[int]) -> tuple[str, int]:
    """Write the list of the contest's eligible entries at ``closed_at``, replacing any
    left by an attempt that did not finish; return its digest (``draw.list_digest``) and
    its length."""
    lines = await _eligible_lines(contest_id, closed_at, required)
    # A line is "pseudonym weight" and a pseudonym holds no whitespace or control
    # character, so every character of it sorts after the space: sorting the lines
    # sorts them by pseudonym in code point order, the published order.
    lines.sort()
    await FrozenLines.filter(contest_id=contest_id).delete()
    hasher = hashlib.sha256()
    per_batch = LINES_PER_ROW * ROWS_PER_BATCH
    for start in range(0, len(lines), per_batch):
        rows: list[FrozenLines] = []
        for offset in range(start, min(start + per_batch, len(lines)), LINES_PER_ROW):
            text = "\n".join(lines[offset : offset + LINES_PER_ROW]) + "\n"
            hasher.update(text.encode("utf-8"))
            rows.append(
                FrozenLines(
                    contest_id=contest_id,
                    position=offset // LINES_PER_ROW,
                    first_pseudonym=lines[offset].split(" ", 1)[0],
                    lines=text,
                )
            )
        async with in_transaction():
            await FrozenLines.bulk_create(rows)
    return hasher.hexdigest(), len(lines)


async def _eligible_lines(contest_id: int, closed_at: datetime, required: list[int]) -> list[str]:
    """Every eligible entry's line of the list without its line feed, in no particular
    order: made by the database, the least work a row can cost in Python."""
    [bounds] = await execute(
        "SELECT MIN(id), MAX(id) FROM entry WHERE contest_id = ?", [contest_id]
    )
    first, last = bounds[0], bounds[1]
    if first is None:
        return []
    select = eligible_lines_sql(len(required))
    lines: list[str] = []
    for start in range(int(first), int(last) + 1, FILL_BATCH):
        rows = await execute(
            select,
            [
                start,
                start + FILL_BATCH,
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
        lines.extend([row[0] for row in rows])
    return lines


async def texts(contest_id: int) -> AsyncIterator[str]:
    """The list as published, a run of lines at a time, in order."""
    after = -1
    while True:
        rows = await execute(
            "SELECT position, lines FROM frozen_lines WHERE contest_id = ? AND position > ? "
            "ORDER BY position LIMIT ?",
            [contest_id, after, ROWS_PER_BATCH],
        )
        if not rows:
            return
        for row in rows:
            yield str(row[1])
        after = int(rows[-1][0])


async def batches(contest_id: int) -> AsyncIterator[list[tuple[str, int]]]:
    """The list's (pseudonym, weight) lines in published order, a batch at a time."""
    async for text in texts(contest_id):
        fields = text.split()
        yield list(zip(fields[0::2], map(int, fields[1::2]), strict=True))


async def columns(contest_id: int) -> tuple[list[str], list[int], str]:
    """The whole list as two parallel columns, the lightest shape a draw can take, and
    the digest of the text they were read from (``draw.list_digest``)."""
    pseudonyms: list[str] = []
    weights: list[int] = []
    hasher = hashlib.sha256()
    async for text in texts(contest_id):
        hasher.update(text.encode("utf-8"))
        fields = text.split()
        pseudonyms.extend(fields[0::2])
        weights.extend(map(int, fields[1::2]))
    return pseudonyms, weights, hasher.hexdigest()


async def includes(contest_id: int, pseudonym: str) -> bool:
    """Whether the list holds the pseudonym: only the run that would hold it is read."""
    run = (
        await FrozenLines.filter(contest_id=contest_id, first_pseudonym__lte=pseudonym)
        .order_by("-first_pseudonym")
        .only("lines")
        .first()
    )
    return run is not None and f"\n{pseudonym} " in f"\n{run.lines}"
