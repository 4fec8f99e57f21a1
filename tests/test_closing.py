"""Closing freezes the list set-based and in batches; the draw runs over it and its
certificate streams out exactly as one built in memory."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from tortoise import transactions

from contests import authoring, closing, draw, frozen, queries
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.entries import eligible, record_completion, weight
from contests.models import (
    Completion,
    Contest,
    ContestStatus,
    Draw,
    Entry,
    EntryStatus,
    FrozenLines,
    Step,
)
from contests.verify import verify_certificate
from tests.factories import (
    LINKS,
    brand_with_marketer,
    entrant,
    frozen_list,
    live_contest,
    published_certificate,
)
from web.app import app_links


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches and runs of two, so that a handful of entries crosses several of them."""
    monkeypatch.setattr(frozen, "FILL_BATCH", 2)
    monkeypatch.setattr(frozen, "LINES_PER_ROW", 2)
    monkeypatch.setattr(frozen, "ROWS_PER_BATCH", 2)


async def _contest_with_every_case() -> Contest:
    """Entries that are in the list and entries that are not, for every reason."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    now = utcnow()
    extra = await authoring.add_step(
        contest,
        StepDraft(kind="code", title="Bonus", points=4, required=False, settings={"code": "B"}),
        actor="test",
        now=now,
    )
    later = now + timedelta(hours=1)
    await entrant(contest, complete=True)  # every step, the optional one too
    partial = await entrant(contest)
    required_code = await Step.get(contest=contest, kind="code", required=True)
    await record_completion(partial, required_code, now, links=LINKS)
    disqualified = await entrant(contest, complete=True)
    await Entry.filter(id=disqualified.id).update(status=EntryStatus.DISQUALIFIED)
    too_late = await entrant(contest, complete=True)
    await Completion.filter(entry=too_late, step__kind="visit").update(completed_at=later)
    entered_late = await entrant(contest, complete=True)
    await Entry.filter(id=entered_late.id).update(created_at=later)
    bonus_late = await entrant(contest, complete=True)
    await Completion.filter(entry=bonus_late, step=extra).update(completed_at=later)
    for _ in range(3):
        await entrant(contest, complete=True)
    # From the moment the entries are in: a slow machine may take seconds to make them.
    await Contest.filter(id=contest.id).update(ends_at=utcnow() + timedelta(seconds=1))
    return contest


async def _expected(contest: Contest) -> list[tuple[str, int]]:
    """The list by the rules as Python states them, entry by entry."""
    closed_at = (await Contest.get(id=contest.id)).closed_at
    assert closed_at is not None
    required = {s.id for s in await Step.filter(contest=contest, required=True)}
    lines = []
    for entry in await Entry.filter(contest=contest, created_at__lte=closed_at):
        done = {
            c.step_id: c.points  # type: ignore[attr-defined]
            for c in await Completion.filter(entry=entry, completed_at__lte=closed_at)
        }
        if eligible(entry.status, required, done):
            lines.append((entry.public_id, weight(sum(done.values()))))
    return sorted(lines)


async def test_the_frozen_list_follows_the_eligibility_rules_exactly(
    database_url: Any, small_batches: None
) -> None:
    contest = await _contest_with_every_case()
    assert await closing.close(contest.id, utcnow())

    listed = await frozen_list(contest)
    assert listed == await _expected(contest)
    assert len(listed) == 5 and sorted({w for _, w in listed}) == [6, 10]
    record = await Draw.get(contest=contest)
    assert record.listed == 5
    entries = [draw.FrozenEntry(p, w) for p, w in listed]
    assert record.list_digest == draw.list_digest(entries)
    # Three runs of two lines, each found by the pseudonym it holds; nobody else is.
    assert await FrozenLines.filter(contest=contest).count() == 3
    for pseudonym, _ in listed:
        assert await frozen.includes(contest.id, pseudonym)
        assert not await frozen.includes(contest.id, pseudonym[:-1])
        assert not await frozen.includes(contest.id, pseudonym + "0")
    left_out = await Entry.filter(contest=contest).exclude(public_id__in=[p for p, _ in listed])
    assert len(left_out) == 4
    for entry in left_out:
        assert not await frozen.includes(contest.id, entry.public_id)


async def test_the_downloaded_certificate_is_the_one_built_in_memory(
    database_url: Any, small_batches: None, settings: Any
) -> None:
    contest = await _contest_with_every_case()
    await closing.close(contest.id, utcnow())
    winners = await closing.run_draw(contest.id, utcnow(), links=app_links(settings))
    assert [w.rank for w in winners] == [1, 2]

    downloaded = await published_certificate(contest)
    assert verify_certificate(downloaded) == []
    record = await Draw.get(contest=contest).prefetch_related("contest")
    assert record.drawn_at is not None
    fresh = await Contest.get(id=contest.id)
    assert fresh.seed is not None and fresh.status is ContestStatus.DRAWN
    assert fresh.published_at is not None
    in_memory = draw.build_certificate_v2(
        contest=fresh.slug,
        seed_hex=fresh.seed,
        seed_commitment=fresh.seed_commitment or "",
        commitment_published_at=fresh.published_at,
        entries=[draw.FrozenEntry(p, w) for p, w in await _expected(contest)],
        chain_head=record.chain_head,
        published_at=record.frozen_at,
        beacon=None,
        winners=1,
        alternates=1,
        drawn_at=record.drawn_at,
    )
    assert downloaded == in_memory


async def test_a_close_cut_short_before_its_list_was_complete_is_finished_by_the_draw(
    database_url: Any, small_batches: None, settings: Any
) -> None:
    contest = await _contest_with_every_case()
    now = utcnow()
    # As if the process died after closing, with half a list written.
    await Contest.filter(id=contest.id).update(status=ContestStatus.CLOSED, closed_at=now)
    await FrozenLines.create(
        contest=contest, position=0, first_pseudonym="left-over", lines="left-over 99\n"
    )

    winners = await closing.run_draw(contest.id, now, links=app_links(settings))

    assert len(winners) == 2
    assert await frozen_list(contest) == await _expected(contest)
    assert verify_certificate(await published_certificate(contest)) == []


async def test_a_draw_runs_once_even_when_asked_twice(database_url: Any, settings: Any) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    for _ in range(4):
        await entrant(contest, complete=True)
    await closing.close(contest.id, utcnow())
    first = await closing.run_draw(contest.id, utcnow(), links=app_links(settings))
    again = await closing.run_draw(contest.id, utcnow(), links=app_links(settings))
    assert len(first) == 2 and again == []
    assert len(await frozen_list(contest)) == 4


async def test_a_list_that_no_longer_matches_its_digest_is_never_drawn(
    database_url: Any, settings: Any
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    for _ in range(3):
        await entrant(contest, complete=True)
    await closing.close(contest.id, utcnow())
    # As while a second close rewrites the list: a run of it is missing.
    [run] = await FrozenLines.filter(contest=contest)
    await FrozenLines.filter(id=run.id).delete()

    with pytest.raises(closing.ListChanged):
        await closing.run_draw(contest.id, utcnow(), links=app_links(settings))
    assert (await Draw.get(contest=contest)).drawn_at is None
    await FrozenLines.create(
        contest=contest, position=0, first_pseudonym=run.first_pseudonym, lines=run.lines
    )
    assert len(await closing.run_draw(contest.id, utcnow(), links=app_links(settings))) == 2


async def test_other_writers_get_the_sqlite_lock_between_every_batch_of_a_freeze(
    database_url: str, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's readers and writers do not lock each other out")
    contest = await _contest_with_every_case()
    # Another process's connection, which gives up after a fifth of a second.
    other = sqlite3.connect(database_url.removeprefix("sqlite://"), timeout=0.2)
    written: list[str] = []

    def write_elsewhere(after: str) -> None:
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO audit_log (actor, action, target, data, created_at) "
            "VALUES ('other', 'test.write', ?, '{}', '2026-01-01 00:00:00+00:00')",
            [after],
        )
        other.execute("COMMIT")
        written.append(after)

    real_execute, real_transaction = queries.execute, transactions.in_transaction

    async def read_then_write(sql: str, values: Any = ()) -> list[Any]:
        rows = await real_execute(sql, values)
        write_elsewhere("read")
        return rows

    @asynccontextmanager
    async def transaction_then_write() -> AsyncIterator[Any]:
        async with real_transaction() as connection:
            yield connection
        write_elsewhere("write")

    monkeypatch.setattr(frozen, "execute", read_then_write)
    monkeypatch.setattr(frozen, "in_transaction", transaction_then_write)
    try:
        assert await closing.close(contest.id, utcnow())
    finally:
        monkeypatch.undo()
        other.close()
    assert written.count("read") >= 4 and written.count("write") >= 2
    assert await frozen_list(contest) == await _expected(contest)
