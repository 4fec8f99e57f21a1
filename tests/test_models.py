"""The database itself, built from the migrations, holds the rules that matter even when
code forgets them; and the entries' hash chain can be replayed to its stored head."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError, TransactionManagementError
from tortoise.transactions import in_transaction

from contests import closing, entries, mail
from contests.clock import utcnow
from contests.draw import GENESIS, chain_genesis, chain_link, replay_chain
from contests.ids import public_id
from contests.models import (
    Completion,
    Contest,
    Draw,
    Entry,
    Evidence,
    Identity,
    Outbox,
    Step,
    Winner,
)
from contests.settings import Settings
from tests.factories import brand_with_marketer, email, entrant, live_contest, participant, step_of


async def _contest() -> Contest:
    brand, _ = await brand_with_marketer()
    return await live_contest(brand)


async def test_one_entry_per_participant_per_contest(database_url: str) -> None:
    contest = await _contest()
    entry = await entrant(contest)
    with pytest.raises(IntegrityError):
        await Entry.create(
            contest=contest,
            participant_id=entry.participant_id,  # type: ignore[attr-defined]
            public_id=public_id(),
            consent_version="1",
            consented_at=utcnow(),
            chain_hash=GENESIS,
            created_at=utcnow(),
        )
    assert await Entry.filter(contest=contest).count() == 1


async def test_one_completion_per_entry_and_step(database_url: str) -> None:
    contest = await _contest()
    entry = await entrant(contest)
    step = await step_of(contest, "code")
    await Completion.create(entry=entry, step=step, points=3, completed_at=utcnow())
    with pytest.raises(IntegrityError):
        await Completion.create(entry=entry, step=step, points=3, completed_at=utcnow())
    assert await Completion.filter(entry=entry).count() == 1


async def test_one_draw_per_contest(database_url: str) -> None:
    contest = await _contest()
    assert await closing.close(contest.id, utcnow())
    with pytest.raises(IntegrityError):
        await Draw.create(
            contest=contest, frozen_at=utcnow(), list_digest="0" * 64, chain_head=GENESIS
        )
    assert await Draw.filter(contest=contest).count() == 1


async def test_an_identity_belongs_to_one_account(database_url: str) -> None:
    first, second = await participant(), await participant()
    subject = email("subject")
    await Identity.create(
        participant=first, provider="github", subject=subject, created_at=utcnow()
    )
    with pytest.raises(IntegrityError):
        await Identity.create(
            participant=second, provider="github", subject=subject, created_at=utcnow()
        )
    # The same subject at another provider is another person.
    await Identity.create(
        participant=second, provider="google", subject=subject, created_at=utcnow()
    )


async def test_a_winner_rank_and_entry_are_taken_once(database_url: str) -> None:
    contest = await _contest()
    first, second = await entrant(contest), await entrant(contest)
    await Winner.create(contest=contest, entry=first, rank=1, created_at=utcnow())
    with pytest.raises(IntegrityError):
        await Winner.create(contest=contest, entry=second, rank=1, created_at=utcnow())
    with pytest.raises(IntegrityError):
        await Winner.create(contest=contest, entry=first, rank=2, created_at=utcnow())


async def test_a_visit_nonce_is_reported_once(database_url: str) -> None:
    contest = await _contest()
    entry = await entrant(contest)
    step: Step = await step_of(contest, "visit")
    nonce = public_id()
    fields: dict[str, Any] = {
        "entry": entry,
        "step": step,
        "data": {"page_url": "https://shop.example.com/"},
    }
    await Evidence.create(nonce=nonce, reported_at=utcnow(), **fields)
    with pytest.raises(IntegrityError):
        await Evidence.create(nonce=nonce, reported_at=utcnow(), **fields)


async def test_an_outbox_key_holds_one_message(database_url: str) -> None:
    key = f"test:{public_id()}"
    await mail.queue(
        kind="sign-in",
        dedupe_key=key,
        template="sign_in",
        to_email=email(),
        to_name="",
        locale="es",
        now=utcnow(),
        reply_to="hello@example.com",
        link="http://testserver/auth/email/x",
        minutes=15,
    )
    message = await Outbox.get(dedupe_key=key)
    with pytest.raises(IntegrityError):
        await Outbox.create(
            dedupe_key=key,
            kind="sign-in",
            to_email=email(),
            locale="es",
            subject="again",
            text_body="again",
            html_body="again",
            created_at=utcnow(),
            next_attempt_at=utcnow(),
        )
    assert [m.id for m in await Outbox.filter(dedupe_key=key)] == [message.id]


async def test_replaying_the_entry_chain_gives_the_stored_head(database_url: str) -> None:
    contest = await _contest()
    for name in ("Ana", "Luis", "Marta", "Iker"):
        await entrant(contest, name=name)
    await contest.refresh_from_db()
    stored = await Entry.filter(contest=contest).order_by("id")
    start = _genesis(contest)
    assert (
        replay_chain(((e.public_id, e.created_at) for e in stored), start)
        == contest.entry_chain_head
    )
    previous = start
    for entry in stored:
        assert entry.chain_hash == chain_link(previous, entry.public_id, entry.created_at)
        previous = entry.chain_hash


async def test_an_entry_slipped_in_breaks_the_chain(database_url: str) -> None:
    contest = await _contest()
    for name in ("Ana", "Luis"):
        await entrant(contest, name=name)
    await contest.refresh_from_db()
    stored = [
        (e.public_id, e.created_at) for e in await Entry.filter(contest=contest).order_by("id")
    ]
    slipped = (public_id(), stored[0][1])
    start = _genesis(contest)
    assert replay_chain(stored, start) == contest.entry_chain_head
    assert replay_chain([stored[0], slipped, stored[1]], start) != contest.entry_chain_head
    assert replay_chain(reversed(stored), start) != contest.entry_chain_head


def _genesis(contest: Contest) -> str:
    """A published contest's chain starts from the contest and its seed commitment."""
    assert contest.seed_commitment is not None
    return chain_genesis(contest.slug, contest.seed_commitment)


async def test_entering_while_another_process_writes_waits_its_turn(
    database_url: str, settings: Settings, request: pytest.FixtureRequest
) -> None:
    """The web app and the worker are two processes on one SQLite file by default."""
    path = settings.sqlite_path()
    if path is None:
        pytest.skip("only SQLite shares one file between processes")
    contest = await _contest()
    person = await participant()
    worker_connection = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        worker_connection.execute("BEGIN IMMEDIATE")
        worker_connection.execute("UPDATE brand SET name = name WHERE id = ?", (contest.brand_id,))  # type: ignore[attr-defined]
        asyncio.get_running_loop().call_later(0.3, worker_connection.execute, "COMMIT")
        entry = await entries.enter(contest, person, consented=True, locale="es", now=utcnow())
    finally:
        await asyncio.sleep(0.4)
        worker_connection.close()
    assert await Entry.filter(id=entry.id).exists()


async def test_a_write_that_times_out_waiting_for_the_lock_leaves_the_connection_usable(
    database_url: str, settings: Settings
) -> None:
    """A lock held past the busy timeout fails that one transaction, cleanly: the next
    ones commit, and other connections see what they wrote."""
    path = settings.sqlite_path()
    if path is None:
        pytest.skip("only SQLite has one write lock for the whole file")
    contest = await _contest()
    connection = connections.get("default")
    await connection.execute_script("PRAGMA busy_timeout = 200")
    other = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(TransactionManagementError, match="locked"):
            async with in_transaction():
                await Contest.filter(id=contest.id).update(title="never")
        other.execute("COMMIT")

        async def rename() -> None:
            async with in_transaction():
                await Contest.filter(id=contest.id).update(title="renamed")

        await asyncio.wait_for(rename(), timeout=5)
        [(title,)] = other.execute("SELECT title FROM contest WHERE id = ?", (contest.id,))
        assert title == "renamed"
    finally:
        other.close()
        await connection.execute_script("PRAGMA busy_timeout = 5000")
