"""Running counts of a contest's entrants, completions and referrals, for the dashboard.

The database keeps them itself: triggers (migration 0017) move a counter in the very
transaction that adds, moves or removes an entry, a completion, a required step or a
referral, whichever code or statement does it, so the counts never drift from the rows.
Entrants are counted per quarter of an hour in UTC, which sums to local days in any zone
the contest has, now or later. Entries per step, and those with every required step
done (stage 0), are counted in shards by entry id, and referrals per status in shards by
the referred entry's id, so that writers for different entrants seldom wait for the
same counter. Each referrer's credited referrals have a counter of their own
(``ReferrerTally``, read by ``contests.referrals.leaderboard``).

On PostgreSQL a trigger only notes its change; a transaction's changes are applied
together as it commits, each kind of counter in key order (migration 0018), so that two
writers never hold counters the other waits for. Each statement notes its rows' net
change once per counter, whatever its number of rows (migration 0019), so that its
cost stays in proportion to its rows. Reads are the same on both databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tortoise import connections

from contests.queries import execute

# As in migration 0017's triggers.
SHARDS = 16
QUARTER_SECONDS = 900
EVERY_REQUIRED = 0


def quarter_of(moment: datetime) -> int:
    return int(moment.timestamp()) // QUARTER_SECONDS


async def entrants_per_quarter(contest_id: int) -> dict[int, int]:
    """Entrants of each quarter of an hour (quarters since 1970 UTC) that had any."""
    return {
        int(quarter): int(entrants)
        for quarter, entrants in await execute(
            "SELECT quarter, entrants FROM entrant_tally WHERE contest_id = ? AND entrants <> 0",
            [contest_id],
        )
    }


def per_local_day(quarters: dict[int, int], zone: ZoneInfo) -> dict[date, int]:
    """Sum quarters of an hour into the days of ``zone``'s calendar."""
    days: dict[date, int] = {}
    for quarter, entrants in quarters.items():
        day = datetime.fromtimestamp(quarter * QUARTER_SECONDS, UTC).astimezone(zone).date()
        days[day] = days.get(day, 0) + entrants
    return days


async def stages(contest_id: int) -> dict[int, int]:
    """Entries that did each step (by step id), and every required one (EVERY_REQUIRED)."""
    return {
        int(stage): int(done)
        for stage, done in await execute(
            "SELECT stage, SUM(done) FROM step_tally WHERE contest_id = ? GROUP BY stage",
            [contest_id],
        )
    }


async def referrals_per_status(contest_id: int) -> dict[str, int]:
    """A contest's referrals in each status that has any."""
    return {
        str(status): int(referrals)
        for status, referrals in await execute(
            "SELECT status, SUM(referrals) FROM referral_tally WHERE contest_id = ? "
            "GROUP BY status",
            [contest_id],
        )
        if int(referrals)
    }


async def recount(contest_id: int) -> None:
    """Count a contest's tallies again from its entries, completions and referrals: for
    rows written with the triggers off, as a bulk load may be."""
    postgres = connections.get("default").capabilities.dialect == "postgres"
    quarter = (
        f"FLOOR(EXTRACT(EPOCH FROM created_at) / {QUARTER_SECONDS})::INT"
        if postgres
        else f"CAST(strftime('%s', created_at) AS INTEGER) / {QUARTER_SECONDS}"
    )
    if postgres:
        # What this transaction changed before is counted below: applied at the commit,
        # it would be counted twice.
        await execute("SELECT tally_settle_pending()")
    await execute("DELETE FROM entrant_tally WHERE contest_id = ?", [contest_id])
    await execute("DELETE FROM step_tally WHERE contest_id = ?", [contest_id])
    await execute("DELETE FROM referrer_tally WHERE contest_id = ?", [contest_id])
    await execute("DELETE FROM referral_tally WHERE contest_id = ?", [contest_id])
    await execute(
        "INSERT INTO entrant_tally (contest_id, quarter, entrants) "  # noqa: S608
        f"SELECT contest_id, {quarter}, COUNT(*) FROM entry WHERE contest_id = ? "
        f"GROUP BY contest_id, {quarter}",
        [contest_id],
    )
    await execute(
        "INSERT INTO step_tally (contest_id, stage, shard, done) "  # noqa: S608
        f"SELECT s.contest_id, c.step_id, c.entry_id % {SHARDS}, COUNT(*) "
        "FROM completion c JOIN step s ON s.id = c.step_id WHERE s.contest_id = ? "
        f"GROUP BY s.contest_id, c.step_id, c.entry_id % {SHARDS}",
        [contest_id],
    )
    await execute(
        "INSERT INTO step_tally (contest_id, stage, shard, done) "  # noqa: S608
        f"SELECT CAST(? AS INTEGER), {EVERY_REQUIRED}, f.entry_id % {SHARDS}, COUNT(*) FROM ("
        "SELECT c.entry_id FROM completion c JOIN step s ON s.id = c.step_id "
        "WHERE s.contest_id = ? AND s.required GROUP BY c.entry_id "
        "HAVING COUNT(*) = (SELECT COUNT(*) FROM step r WHERE r.contest_id = ? AND r.required)"
        f") f GROUP BY f.entry_id % {SHARDS}",
        [contest_id, contest_id, contest_id],
    )
    await execute(
        "INSERT INTO referrer_tally (contest_id, referrer_id, credited) "
        "SELECT contest_id, referrer_id, COUNT(*) FROM referral WHERE contest_id = ? "
        "AND status = 'credited' AND referrer_id IS NOT NULL GROUP BY contest_id, referrer_id",
        [contest_id],
    )
    await execute(
        "INSERT INTO referral_tally (contest_id, status, shard, referrals) "  # noqa: S608
        f"SELECT contest_id, status, referred_id % {SHARDS}, COUNT(*) FROM referral "
        f"WHERE contest_id = ? GROUP BY contest_id, status, referred_id % {SHARDS}",
        [contest_id],
    )
