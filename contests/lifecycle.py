"""draft → scheduled → live → closed: publishing and the clock moving contests along."""

from __future__ import annotations

from datetime import datetime

from contests import audit, draw
from contests.errors import N_, Conflict
from contests.models import Contest, ContestStatus, Prize, Step
from contests.queries import ids


async def publish(contest: Contest, *, actor: str, now: datetime) -> None:
    """Commit to the draw's seed and open the contest (or schedule it)."""
    if contest.status is not ContestStatus.DRAFT:
        raise Conflict(N_("This contest is already published."), "already_published")
    if not await Prize.filter(contest=contest).exists():
        raise Conflict(N_("Add at least one prize before publishing."), "no_prizes")
    if not await Step.filter(contest=contest).exists():
        raise Conflict(N_("Add at least one step before publishing."), "no_steps")
    if contest.ends_at <= now:
        raise Conflict(
            N_("The end time has already passed: move it later before publishing."),
            "ends_in_past",
        )
    contest.seed = draw.new_seed()
    contest.seed_commitment = draw.commitment(contest.seed)
    contest.published_at = now
    contest.status = ContestStatus.LIVE if contest.starts_at <= now else ContestStatus.SCHEDULED
    await contest.save(update_fields=["seed", "seed_commitment", "published_at", "status"])
    await audit.record(
        actor=actor,
        action="contest.published",
        brand=contest.brand,
        target=contest.slug,
        now=now,
        seed_commitment=contest.seed_commitment,
    )


async def open_due(now: datetime) -> int:
    """Scheduled contests whose start has come go live."""
    return await Contest.filter(status=ContestStatus.SCHEDULED, starts_at__lte=now).update(
        status=ContestStatus.LIVE
    )


async def due_for_closing(now: datetime) -> list[int]:
    """Contests past their end that still have to be closed or drawn."""
    late = await ids(
        Contest.filter(status__in=[ContestStatus.LIVE, ContestStatus.SCHEDULED], ends_at__lte=now)
    )
    undrawn = await ids(Contest.filter(status=ContestStatus.CLOSED))
    return sorted({*late, *undrawn})


def accepting_entries(contest: Contest, now: datetime) -> bool:
    return contest.status is ContestStatus.LIVE and contest.starts_at <= now < contest.ends_at
