"""One statement that adds, moves or removes many entries, completions or referrals
costs time in proportion to its rows, and the running counts still equal a count
from scratch afterwards.

The timing compares a statement of 20,000 rows with one of 5,000 on the same
database: four times the rows may take up to eight times as long, room enough for a
loaded machine, while a cost in the square of the rows (sixteen times, as when the
commit looked up the transaction's pending changes once per row) does not fit."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from tortoise.transactions import in_transaction

from contests.clock import utcnow
from contests.models import Contest, Step
from contests.queries import execute
from tests.factories import brand_with_marketer, live_contest
from tests.test_tallies import _counted, _from_scratch

SMALL = 5_000
LARGE = 20_000
# Four times the rows; sixteen times the time would be quadratic.
MOST_RATIO = 8.0

# Numbers 1..n in a way both databases understand.
_SERIES = "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ?) "


async def _add_entries(contest: Contest, count: int, tag: str, *, hours_ago: int = 1) -> None:
    now = utcnow()
    await execute(
        _SERIES + "INSERT INTO entry (contest_id, public_id, referral_code, status, locale, "
        "consent_version, consented_at, chain_hash, created_at) "
        "SELECT ?, CAST(? AS VARCHAR(16)) || CAST(n AS VARCHAR(16)), "
        "CAST(? AS VARCHAR(16)) || CAST(n AS VARCHAR(16)), 'active', 'es', '1', ?, 'h', ? FROM i",
        [count, contest.id, f"p{tag}", f"r{tag}", now, now - timedelta(hours=hours_ago)],
    )


async def _complete(step: Step, tag: str, modulo: int = 1) -> None:
    await execute(
        "INSERT INTO completion (entry_id, step_id, points, completed_at) "
        "SELECT id, ?, 1, ? FROM entry WHERE public_id LIKE ? AND id % ? = 0",
        [step.id, utcnow(), f"p{tag}%", modulo],
    )


async def _timed_round(contest: Contest, step: Step, count: int) -> tuple[float, float]:
    """Seconds to add ``count`` entries in one statement, and to remove them in one
    (with a completion each, removed with them)."""
    tag = secrets.token_hex(4)
    started = time.perf_counter()
    await _add_entries(contest, count, tag)
    added = time.perf_counter() - started
    await _complete(step, tag)
    started = time.perf_counter()
    await execute("DELETE FROM entry WHERE public_id LIKE ?", [f"p{tag}%"])
    removed = time.perf_counter() - started
    return added, removed


async def test_a_statement_of_many_rows_costs_time_in_proportion(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    visit, _code = await Step.filter(contest=contest).order_by("position", "id")
    await _timed_round(contest, visit, 500)  # warms caches and plans

    # The better of two rounds of each size, so that a moment's load elsewhere counts less.
    small = [await _timed_round(contest, visit, SMALL) for _ in range(2)]
    large = [await _timed_round(contest, visit, LARGE) for _ in range(2)]
    small_in, small_out = (min(times) for times in zip(*small, strict=True))
    large_in, large_out = (min(times) for times in zip(*large, strict=True))

    figures = f"in {small_in:.2f}/{large_in:.2f} s, out {small_out:.2f}/{large_out:.2f} s"
    assert large_in < MOST_RATIO * small_in, figures
    assert large_out < MOST_RATIO * small_out, figures
    assert await _counted(contest) == await _from_scratch(contest)


async def test_counts_follow_statements_of_many_rows(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    other = await live_contest(brand)
    visit, code = await Step.filter(contest=contest).order_by("position", "id")
    tag = secrets.token_hex(4)
    mine = f"p{tag}%"

    async def same() -> None:
        assert await _counted(contest) == await _from_scratch(contest)
        assert await _counted(other) == await _from_scratch(other)

    await _add_entries(contest, 300, tag, hours_ago=30)
    await _complete(visit, tag, 2)
    await _complete(code, tag, 3)
    # Every entry after the first ten came through one of them; some credited.
    await execute(
        "INSERT INTO referral (contest_id, referrer_id, referred_id, code, status, reason, "
        "created_at) SELECT e.contest_id, r.id, e.id, '', "
        "CASE WHEN e.id % 4 = 0 THEN 'credited' WHEN e.id % 4 = 1 THEN 'refused' "
        "ELSE 'pending' END, '', e.created_at FROM entry e "
        "JOIN entry r "
        "ON r.public_id = CAST(? AS VARCHAR(16)) || CAST(1 + e.id % 10 AS VARCHAR(16)) "
        "WHERE e.public_id LIKE ? AND e.id <> r.id AND e.id NOT IN "
        "(SELECT id FROM entry WHERE public_id LIKE ? ORDER BY id LIMIT 10)",
        [f"p{tag}", mine, mine],
    )
    await same()

    # Several statements in one transaction, each of many rows.
    async with in_transaction():
        await execute(
            "UPDATE referral SET status = 'credited' WHERE status = 'pending' AND id % 3 = 0 "
            "AND referred_id IN (SELECT id FROM entry WHERE public_id LIKE ?)",
            [mine],
        )
        await execute(
            "UPDATE referral SET referrer_id = (SELECT id FROM entry WHERE public_id = ?) "
            "WHERE id % 5 = 0 AND referred_id IN (SELECT id FROM entry WHERE public_id LIKE ?)",
            [f"p{tag}2", mine],
        )
        await execute(
            "UPDATE referral SET referred_id = referred_id WHERE contest_id = ?", [contest.id]
        )
        await execute("UPDATE entry SET locale = 'en' WHERE public_id LIKE ?", [mine])
        await execute(
            "UPDATE entry SET created_at = ? WHERE public_id LIKE ? AND id % 7 = 0",
            [utcnow(), mine],
        )
    await same()

    # Entries and their referrals move to another contest; completions and referrals go.
    async with in_transaction():
        await execute(
            "UPDATE entry SET contest_id = ? WHERE public_id LIKE ? AND id % 11 = 0",
            [other.id, mine],
        )
        await execute(
            "UPDATE referral SET contest_id = ? WHERE referred_id IN "
            "(SELECT id FROM entry WHERE contest_id = ?)",
            [other.id, other.id],
        )
    await execute(
        "DELETE FROM completion WHERE step_id = ? AND entry_id % 4 = 0 AND entry_id IN "
        "(SELECT id FROM entry WHERE public_id LIKE ?)",
        [code.id, mine],
    )
    await execute("DELETE FROM referral WHERE status = 'refused' AND id % 2 = 0")
    await same()

    # Entries removed take their completions and referrals with them.
    await execute("DELETE FROM entry WHERE public_id LIKE ? AND id % 5 = 1", [mine])
    await same()
    await execute("DELETE FROM entry WHERE public_id LIKE ?", [mine])
    await same()
    assert (await _counted(contest))[0] == 0
