"""The figures of a contest's dashboard: entrants over time, the step funnel, where
entrants came from, and the flags. Each figure is one aggregate query, so that the
dashboard costs the same with a hundred entries or a million."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise import connections

from contests import referrals, review
from contests.models import Contest, ReferralStatus, Review, ReviewDecision, Step
from contests.queries import execute
from contests.referrals import Leader

# A dashboard of a long contest shows its latest days: a bar a day stays readable.
MOST_DAYS = 92


@dataclass(frozen=True)
class Stage:
    """One stage of the funnel: entered (``step`` None, ``every_required`` False), a
    step, or every required step done (``every_required``)."""

    count: int
    step: Step | None = None
    every_required: bool = False


@dataclass(frozen=True)
class Figures:
    entered: int
    per_day: list[tuple[date, int]]
    funnel: list[Stage]
    through_referral: int
    referrals: dict[ReferralStatus, int]
    top_referrers: list[Leader]
    flags: dict[str, int]
    waiting_review: int
    # Disqualified after review (entries of deleted accounts leave the draw too, unseen).
    disqualified: int

    @property
    def directly(self) -> int:
        return self.entered - self.through_referral


async def figures(contest: Contest, *, now: datetime) -> Figures:
    steps = await Step.filter(contest=contest).order_by("position", "id")
    entered, disqualified = await _entries(contest.id)
    by_status = {
        ReferralStatus(row[0]): int(row[1])
        for row in await execute(
            "SELECT status, COUNT(*) FROM referral WHERE contest_id = ? GROUP BY status",
            [contest.id],
        )
    }
    return Figures(
        entered=entered,
        per_day=await entrants_per_day(contest, now=now),
        funnel=await funnel(contest, steps, entered),
        through_referral=sum(by_status.values()),
        referrals=by_status,
        top_referrers=await referrals.leaderboard(contest, 5),
        flags={
            str(row[0]): int(row[1])
            for row in await execute(
                "SELECT reason, COUNT(*) FROM fraud_flag WHERE contest_id = ? "
                "GROUP BY reason ORDER BY COUNT(*) DESC, reason",
                [contest.id],
            )
        },
        waiting_review=await review.waiting_count(contest.id),
        disqualified=disqualified,
    )


async def _entries(contest_id: int) -> tuple[int, int]:
    """The entrants (counted from an index alone), and those disqualified after review."""
    [row] = await execute(
        "SELECT COUNT(*) FROM entry WHERE contest_id = ? AND created_at IS NOT NULL", [contest_id]
    )
    disqualified = await Review.filter(
        contest_id=contest_id, decision=ReviewDecision.DISQUALIFIED
    ).count()
    return int(row[0]), disqualified


async def entrants_per_day(contest: Contest, *, now: datetime) -> list[tuple[date, int]]:
    """New entrants on each day, on the contest's calendar, from its first day (or its
    latest MOST_DAYS) to today or its end, days without entrants included."""
    zone = ZoneInfo(contest.timezone)
    counted = await _per_day(contest, zone)
    first = contest.starts_at.astimezone(zone).date()
    last = min(now, contest.closed_at or contest.ends_at).astimezone(zone).date()
    if counted:
        first, last = min(first, min(counted)), max(last, max(counted))
    first = max(first, last - timedelta(days=MOST_DAYS - 1))
    return [
        (first + timedelta(days=n), counted.get(first + timedelta(days=n), 0))
        for n in range((last - first).days + 1)
    ]


async def _per_day(contest: Contest, zone: ZoneInfo) -> dict[date, int]:
    if connections.get("default").capabilities.dialect == "postgres":
        rows = await execute(
            "SELECT CAST(created_at AT TIME ZONE ? AS DATE) AS day, COUNT(*) FROM entry "
            "WHERE contest_id = ? GROUP BY day",
            [contest.timezone, contest.id],
        )
    else:
        # SQLite knows no time zones: the contest's offset on its first day places each
        # entry on its local day (a change of summer time moves an hour's entries near
        # midnight by one day at most).
        offset = contest.starts_at.astimezone(zone).utcoffset() or timedelta()
        rows = await execute(
            "SELECT date(created_at, ?) AS day, COUNT(*) FROM entry "
            "WHERE contest_id = ? GROUP BY day",
            [f"{int(offset.total_seconds() // 60):+d} minutes", contest.id],
        )
    return {
        row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])): int(row[1])
        for row in rows
    }


async def funnel(contest: Contest, steps: list[Step], entered: int) -> list[Stage]:
    """Entered, then each step in the contest's order, then every required step done."""
    done = {
        int(row[0]): int(row[1])
        for row in await execute(
            "SELECT c.step_id, COUNT(*) FROM completion c JOIN step s ON s.id = c.step_id "
            "WHERE s.contest_id = ? GROUP BY c.step_id",
            [contest.id],
        )
    }
    required = [step.id for step in steps if step.required]
    if required:
        [row] = await execute(
            "SELECT COUNT(*) FROM (SELECT entry_id FROM completion "  # noqa: S608
            f"WHERE step_id IN ({', '.join('?' * len(required))}) "
            "GROUP BY entry_id HAVING COUNT(*) = ?) finished",
            [*required, len(required)],
        )
        finished = int(row[0])
    else:
        finished = entered
    return [
        Stage(count=entered),
        *(Stage(count=done.get(step.id, 0), step=step) for step in steps),
        Stage(count=finished, every_required=True),
    ]
