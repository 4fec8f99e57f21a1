"""The published entry chain log and frozen list, streamed a batch at a time: a million
entries never sit in memory, and each batch is two set-based queries."""

from __future__ import annotations

from collections.abc import AsyncIterator

from contests import draw, frozen
from contests.errors import N_, NotFound
from contests.models import Contest, Draw, Entry, EntryStatus, ListedEntry

BATCH = 5_000


async def require_frozen(contest: Contest) -> Draw:
    record = await Draw.filter(contest=contest).first()
    if record is None:
        raise NotFound(N_("The list is published when the contest closes."), "list_not_published")
    return record


async def chain_lines(contest: Contest) -> AsyncIterator[str]:
    """One line per entry in arrival order: 'link pseudonym arrival reason', the reason
    'listed', 'disqualified' or 'incomplete' (required steps not done by the close)."""
    await require_frozen(contest)
    return _chain_lines(contest.id)


async def _chain_lines(contest_id: int) -> AsyncIterator[str]:
    after = 0
    while True:
        rows = (
            await Entry.filter(contest_id=contest_id, id__gt=after)
            .order_by("id")
            .limit(BATCH)
            .values("id", "chain_hash", "public_id", "created_at", "status")
        )
        if not rows:
            return
        listed = set(
            await ListedEntry.filter(
                contest_id=contest_id, pseudonym__in=[row["public_id"] for row in rows]
            ).values_list("pseudonym", flat=True)
        )
        yield "".join(
            f"{row['chain_hash']} {row['public_id']} {draw.utc_text(row['created_at'])} "
            f"{_reason(row['public_id'] in listed, row['status'])}\n"
            for row in rows
        )
        after = rows[-1]["id"]


def _reason(listed: bool, status: object) -> str:
    if listed:
        return "listed"
    return "disqualified" if str(status) == EntryStatus.DISQUALIFIED.value else "incomplete"


async def list_text(contest: Contest) -> AsyncIterator[str]:
    """The frozen list exactly as hashed: its SHA-256 is the list digest."""
    await require_frozen(contest)
    return _list_text(contest.id)


async def _list_text(contest_id: int) -> AsyncIterator[str]:
    async for batch in frozen.batches(contest_id):
        yield "".join(draw.canonical_line(p, w) for p, w in batch)
