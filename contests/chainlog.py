"""The published entry chain log and frozen list, streamed a batch at a time: a million
entries never sit in memory, and each batch is two set-based queries."""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import AsyncIterator

from contests import draw, frozen
from contests.errors import N_, NotFound
from contests.models import Contest, Draw, Entry, EntryStatus

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


def _key(pseudonym: str) -> int:
    return int.from_bytes(hashlib.blake2b(pseudonym.encode(), digest_size=8).digest(), "big")


class _Listed:
    """Which pseudonyms the frozen list holds, as a sorted array of 64-bit hashes: 8 bytes
    an entry (8 MB for a million) where a set of the strings would take over 100 MB. Two
    pseudonyms sharing a hash among a million has odds of about one in 30 million."""

    def __init__(self, keys: array[int]) -> None:
        self.keys = keys

    @classmethod
    async def of(cls, contest_id: int) -> _Listed:
        keys: list[int] = []
        async for batch in frozen.batches(contest_id):
            keys.extend(_key(pseudonym) for pseudonym, _ in batch)
        keys.sort()
        return cls(array("Q", keys))

    def __contains__(self, pseudonym: str) -> bool:
        key = _key(pseudonym)
        at = bisect_left(self.keys, key)
        return at < len(self.keys) and self.keys[at] == key


async def _chain_lines(contest_id: int) -> AsyncIterator[str]:
    listed = await _Listed.of(contest_id)
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
