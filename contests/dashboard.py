"""The figures of a contest's dashboard: entrants over time, the step funnel, where
entrants came from, and the flags. Entrants, the funnel and the referrals come from
running counts (contests/tallies.py), the flags and reviews from one aggregate query
each, so that the dashboard costs nearly the same with a hundred entries or a million."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from contests import referrals, review, tallies
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
    quarters = await tallies.entrants_per_quarter(contest.id)
    entered = sum(quarters.values())
    by_status = {
        ReferralStatus(status): count
        for status, count in (await tallies.referrals_per_status(contest.id)).items()
    }
    return Figures(
        entered=entered,
        per_day=await entrants_per_day(contest, now=now, quarters=quarters),
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
        disqualified=await Review.filter(
            contest_id=contest.id, decision=ReviewDecision.DISQUALIFIED
        ).count(),
    )


async def entrants_per_day(
    contest: Contest, *, now: datetime, quarters: dict[int, int] | None = None
) -> list[tuple[date, int]]:
    """New entrants on each day, on the contest's calendar, from its first day (or its
    latest MOST_DAYS) to today or its end, days without entrants included; ``quarters``:
    the contest's entrants per quarter of an hour, when already read."""
    zone = ZoneInfo(contest.timezone)
    if quarters is None:
        quarters = await tallies.entrants_per_quarter(contest.id)
    counted = tallies.per_local_day(quarters, zone)
    first = contest.starts_at.astimezone(zone).date()
    last = min(now, contest.closed_at or contest.ends_at).astimezone(zone).date()
    if counted:
        first, last = min(first, min(counted)), max(last, max(counted))
    first = max(first, last - timedelta(days=MOST_DAYS - 1))
    return [
        (first + timedelta(days=n), counted.get(first + timedelta(days=n), 0))
        for n in range((last - first).days + 1)
    ]


async def funnel(contest: Contest, steps: list[Step], entered: int) -> list[Stage]:
    """Entered, then each step in the contest's order, then every required step done."""
    done = await tallies.stages(contest.id)
    finished = (
        done.get(tallies.EVERY_REQUIRED, 0) if any(step.required for step in steps) else entered
    )
    return [
        Stage(count=entered),
        *(Stage(count=done.get(step.id, 0), step=step) for step in steps),
        Stage(count=finished, every_required=True),
    ]
