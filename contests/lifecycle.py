"""draft → scheduled → live → closed → drawn: the statuses' named groups, publishing,
and the clock moving contests along. Every rule that asks "which statuses?" asks here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit, beacon, changes, draw
from contests.errors import N_, Conflict
from contests.models import Contest, ContestStatus, Prize, Step
from contests.queries import ids

# A new contest's draw mixes in a round of the League of Entropy's quicknet, named at
# publication, unless its caller names another network or, explicitly, none.
DEFAULT_NETWORK = beacon.quicknet()
DEFAULT_MARGIN_SECONDS = 30

# Published and not closed yet: the clock closes these at their end.
RUNNING = frozenset({ContestStatus.SCHEDULED, ContestStatus.LIVE})
# Prizes' words, steps and the end may still change (within each rule's limits).
EDITABLE = frozenset({ContestStatus.DRAFT, *RUNNING})
# Closed: the list of entries is frozen, each pseudonym is part of what was published.
FINISHED = frozenset({ContestStatus.CLOSED, ContestStatus.DRAWN})
# Anyone may see these.
PUBLIC = frozenset({*RUNNING, *FINISHED})
# The winners' emails are not written yet: they follow the entry's language.
NOT_DRAWN = frozenset({*RUNNING, ContestStatus.CLOSED})


@dataclass(frozen=True)
class Phase:
    """What a page may offer for a contest now; templates read these, not statuses."""

    draft: bool
    scheduled: bool
    accepting: bool
    running: bool
    finished: bool
    editable: bool


def phase(contest: Contest, now: datetime) -> Phase:
    return Phase(
        draft=contest.status is ContestStatus.DRAFT,
        scheduled=contest.status is ContestStatus.SCHEDULED,
        accepting=accepting_entries(contest, now),
        running=contest.status in RUNNING,
        finished=contest.status in FINISHED,
        editable=contest.status in EDITABLE,
    )


def accepting_entries(contest: Contest, now: datetime) -> bool:
    return contest.status is ContestStatus.LIVE and contest.starts_at <= now < contest.ends_at


def was_accepting(contest: Contest, at: datetime) -> bool:
    """Whether the contest was open at ``at``, judged now: evidence reported while it was
    open still counts when its verdict comes after the close."""
    if contest.status is ContestStatus.LIVE:
        return contest.starts_at <= at < contest.ends_at
    if contest.status in FINISHED:
        end = contest.closed_at or contest.ends_at
        return contest.starts_at <= at < min(end, contest.ends_at)
    return False


def require_accepting(contest: Contest, now: datetime) -> None:
    if not accepting_entries(contest, now):
        raise Conflict(N_("This contest is not open right now."), "not_open")


def require_editable(contest: Contest) -> None:
    if contest.status not in EDITABLE:
        raise Conflict(
            N_("The contest is closed: its prizes and steps can no longer change."),
            "contest_closed",
        )


async def publish(
    contest: Contest,
    *,
    actor: str,
    now: datetime,
    network: beacon.Network | None = DEFAULT_NETWORK,
    margin_seconds: int = DEFAULT_MARGIN_SECONDS,
) -> None:
    """Commit to the draw's seed, name the beacon round it will mix in, start the entry
    chain from the contest and the commitment, and open the contest (or schedule it).

    ``network`` None is a draw without a beacon, which the organiser could steer: only
    by explicit choice, and every public page then says so. Only a draft is published,
    by a conditional update: of two publishes at once, the second changes nothing, so a
    seed commitment once shown is never replaced.
    """
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
    seed = draw.new_seed()
    status = ContestStatus.LIVE if contest.starts_at <= now else ContestStatus.SCHEDULED
    named = (
        beacon.named_round(network, contest.ends_at, margin_seconds)
        if network is not None
        else None
    )
    genesis = draw.chain_genesis(contest.slug, draw.commitment(seed))
    async with in_transaction():
        published = await Contest.filter(id=contest.id, status=ContestStatus.DRAFT).update(
            seed=seed,
            seed_commitment=draw.commitment(seed),
            published_at=now,
            status=status,
            draw_format=2,
            beacon=named,
            entry_chain_head=genesis,
        )
        if not published:
            raise Conflict(N_("This contest is already published."), "already_published")
        await audit.record(
            actor=actor,
            action="contest.published",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            seed_commitment=draw.commitment(seed),
            **({"beacon_round": named["round"]} if named else {}),
        )
    contest.seed, contest.seed_commitment = seed, draw.commitment(seed)
    contest.draw_format, contest.beacon, contest.entry_chain_head = 2, named, genesis
    contest.published_at, contest.status = now, status


async def open_due(now: datetime) -> int:
    """Scheduled contests whose start has come go live."""
    opened: int = await Contest.filter(status=ContestStatus.SCHEDULED, starts_at__lte=now).update(
        status=ContestStatus.LIVE
    )
    if opened:
        changes.changed()
    return opened


async def due_for_closing(now: datetime) -> list[int]:
    """Contests past their end that still have to be closed or drawn."""
    late = await ids(Contest.filter(status__in=RUNNING, ends_at__lte=now))
    undrawn = await ids(Contest.filter(status=ContestStatus.CLOSED))
    return sorted({*late, *undrawn})
