"""Closing a contest: freeze the eligible list, draw winners and alternates once, and
start the winners' claims, each step in one transaction."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit, beacon, claims, draw, frozen, jobs
from contests.errors import N_, Conflict
from contests.lifecycle import RUNNING
from contests.links import Links
from contests.models import Contest, ContestStatus, Draw, Entry, Prize, Step, Winner
from contests.queries import ids
from contests.steps import verdicts

DEFAULT_FETCHING = beacon.Fetching()


class ListChanged(RuntimeError):
    """The stored list does not hash to the digest published at the close."""

    def __init__(self, contest: str) -> None:
        super().__init__(f"the frozen list of {contest} does not match its published digest")


async def close(contest_id: int, now: datetime, *, actor: str = "system") -> bool:
    """Close a contest and freeze its list (once every report made before the close
    has its verdict); False when it was already closed.

    The close itself is one short transaction; from then on nothing can enter or be
    completed, so the list is filled afterwards in batches and the draw record, which
    says the list is complete, comes last. A close interrupted in between is finished
    by the draw (see ``run_draw``).
    """
    async with in_transaction():
        contest = await Contest.select_for_update().get(id=contest_id).prefetch_related("brand")
        if contest.status not in RUNNING:
            if contest.status is ContestStatus.DRAFT:
                raise Conflict(N_("A draft cannot be closed: publish it first."), "is_draft")
            return False
        contest.status = ContestStatus.CLOSED
        contest.closed_at = min(now, contest.ends_at)
        await contest.save(update_fields=["status", "closed_at"])
    if await settled(contest):
        await _freeze(contest, now, actor=actor)
    return True


async def settled(contest: Contest) -> bool:
    """Whether every report made before the close has its verdict. Until then the list
    is not frozen (the draw freezes it later): a backlog of reports at the end must
    not cost anyone a place in the draw."""
    assert contest.closed_at is not None
    return not await verdicts.pending_before(contest.id, contest.closed_at)


async def _freeze(contest: Contest, now: datetime, *, actor: str) -> Draw:
    assert contest.closed_at is not None
    required = await ids(Step.filter(contest=contest, required=True).order_by("id"))
    digest, listed = await frozen.freeze(contest.id, contest.closed_at, required)
    async with in_transaction():
        named = contest.beacon
        if named is not None:
            # The list is public from this transaction on; the round must come out
            # after it. A contest closed late (a worker down past its end) names the
            # first unknown round instead, and one closed early ("Close now") the
            # sooner of the two: either way nobody can know it yet.
            network = beacon.network_from(named)
            fresh = beacon.named_round(network, now, int(named["margin_seconds"]))
            if network.round_time(int(named["round"])) <= now or fresh["round"] < named["round"]:
                named = fresh
                await Contest.filter(id=contest.id).update(beacon=named)
                contest.beacon = named
        record = await Draw.create(
            contest=contest,
            frozen_at=now,
            list_digest=digest,
            chain_head=contest.entry_chain_head,
            listed=listed,
        )
        await audit.record(
            actor=actor,
            action="contest.closed",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            eligible=listed,
            **({"beacon_round": named["round"]} if named is not None else {}),
        )
    return record


async def waiting_for_verdicts(contest_id: int) -> bool:
    """Whether a closed contest's list waits for the verdicts on reports made before
    its close."""
    contest = await Contest.get(id=contest_id)
    if contest.status is not ContestStatus.CLOSED or await Draw.exists(contest_id=contest_id):
        return False
    return not await settled(contest)


async def close_then_draw(
    queue: jobs.JobQueue | None, queue_name: str, contest_id: int, now: datetime, *, actor: str
) -> bool:
    """Close a contest now (if it is still open) and queue its draw; the console's
    "Close now" and the worker's clock both end a contest this way."""
    closed = await close(contest_id, now, actor=actor)
    await jobs.enqueue(queue, queue_name, jobs.DRAW_CONTEST, contest_id)
    return closed


async def _prize_slots(contest: Contest) -> list[Prize]:
    slots: list[Prize] = []
    for prize in await Prize.filter(contest=contest).order_by("position", "id"):
        slots.extend([prize] * prize.quantity)
    return slots


async def run_draw(
    contest_id: int,
    now: datetime,
    *,
    links: Links,
    fetching: beacon.Fetching = DEFAULT_FETCHING,
) -> list[Winner]:
    """Draw winners and alternates exactly once and start the winners' claim windows.

    A contest that named a beacon round waits for it: until the round is out, fetched
    and its signature checked, nothing is drawn, and the reason is kept for the draw
    page. The draw is computed before the write transaction, which then only checks
    that nobody drew meanwhile and writes the result.
    """
    contest = await Contest.get(id=contest_id).prefetch_related("brand")
    record = await Draw.filter(contest=contest).first()
    if record is None and contest.status is ContestStatus.CLOSED:
        if not await settled(contest):
            return []
        record = await _freeze(contest, now, actor="system")
    if record is None or record.drawn_at is not None or contest.seed is None:
        return []
    waiting = contest.draw_format >= 2 and contest.beacon is not None
    if (
        waiting
        and record.beacon_round is None
        and not await _fetch_round(contest, record, now, fetching)
    ):
        return []
    slots = await _prize_slots(contest)
    pseudonyms, weights, digest = await frozen.columns(contest.id)
    if digest != record.list_digest:
        # Only a close still rewriting the list (one whose worker stalled past its
        # lease) could make them differ: never draw over a list that is not the one
        # published. The next try, once the list is whole again, draws.
        raise ListChanged(contest.slug)
    key = _draw_key(contest, record, len(slots))
    order = (
        draw.draw_v2(key, pseudonyms, weights, len(slots) + contest.alternates)
        if key
        else draw.draw_sorted(
            contest.seed,
            record.list_digest,
            pseudonyms,
            weights,
            len(slots) + contest.alternates,
            record.public_randomness,
        )
    )
    del pseudonyms, weights
    async with in_transaction():
        contest = await Contest.select_for_update().get(id=contest_id).prefetch_related("brand")
        record = await Draw.get(contest=contest)
        if record.drawn_at is not None or contest.seed is None:
            return []
        by_pseudonym = {
            e.public_id: e
            for e in await Entry.filter(contest=contest, public_id__in=order).prefetch_related(
                "participant"
            )
        }
        winners = []
        for rank, pseudonym in enumerate(order, start=1):
            winners.append(
                await Winner.create(
                    contest=contest,
                    entry=by_pseudonym[pseudonym],
                    prize=slots[rank - 1] if rank <= len(slots) else None,
                    rank=rank,
                    alternate=rank > len(slots),
                    created_at=now,
                )
            )
        record.drawn_at = now
        record.certificate = (
            _certificate_v2(contest, record, key, len(slots), order, now)
            if key
            else _certificate_v1(contest, record, len(slots), order, now)
        )
        await record.save(update_fields=["drawn_at", "certificate"])
        contest.status = ContestStatus.DRAWN
        await contest.save(update_fields=["status"])
        # The claim windows start now; the worker tells each winner (claims.tell_due).
        await claims.start(contest, winners, now)
        await audit.record(
            actor="system",
            action="contest.drawn",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            winners=sum(1 for w in winners if not w.alternate),
            alternates=sum(1 for w in winners if w.alternate),
            # Fewer entries than prize units: the rest are given to nobody, and said so.
            unawarded=max(0, len(slots) - len(order)),
        )
    return winners


async def _fetch_round(
    contest: Contest, record: Draw, now: datetime, fetching: beacon.Fetching
) -> bool:
    """Fetch and check the named round; False (and the reason kept) while it cannot be had."""
    assert contest.beacon is not None
    network = beacon.network_from(contest.beacon, fetching.relays)
    try:
        fetched = await beacon.fetch_round(network, int(contest.beacon["round"]), now, fetching)
    except beacon.BeaconError as error:
        await Draw.filter(id=record.id, drawn_at__isnull=True).update(
            beacon_problem=str(error)[:300], beacon_checked_at=now
        )
        return False
    record.beacon_round = {
        "round": fetched.number,
        "signature": fetched.signature,
        "randomness": fetched.randomness,
    }
    await Draw.filter(id=record.id, drawn_at__isnull=True).update(
        beacon_round=record.beacon_round, beacon_problem="", beacon_checked_at=now
    )
    return True


def _beacon_line(contest: Contest, record: Draw) -> str:
    if contest.beacon is None or record.beacon_round is None:
        return draw.beacon_line("none", "", 0, "")
    return draw.beacon_line(
        str(contest.beacon["source"]),
        str(contest.beacon["chain_hash"]),
        int(record.beacon_round["round"]),
        str(record.beacon_round["randomness"]),
    )


def _draw_key(contest: Contest, record: Draw, winners: int) -> str:
    """Version 2's key, or "" for a contest that committed to version 1."""
    if contest.draw_format < 2 or contest.seed is None:
        return ""
    return draw.draw_key(
        contest=contest.slug,
        seed_hex=contest.seed,
        digest=record.list_digest,
        chain_head=record.chain_head,
        winners=winners,
        alternates=contest.alternates,
        beacon=_beacon_line(contest, record),
    )


def _certificate_v2(
    contest: Contest, record: Draw, key: str, winners: int, order: list[str], now: datetime
) -> dict[str, object]:
    assert contest.seed is not None and contest.seed_commitment is not None
    assert contest.published_at is not None
    named = None
    if contest.beacon is not None and record.beacon_round is not None:
        named = {
            **{k: contest.beacon[k] for k in ("source", "scheme", "chain_hash", "public_key")},
            "period": contest.beacon["period"],
            "genesis": contest.beacon["genesis"],
            "round": record.beacon_round["round"],
            "round_at": contest.beacon["round_at"],
            "signature": record.beacon_round["signature"],
            "randomness": record.beacon_round["randomness"],
        }
    return draw.certificate_fields_v2(
        contest=contest.slug,
        seed_hex=contest.seed,
        seed_commitment=contest.seed_commitment,
        commitment_published_at=contest.published_at,
        digest=record.list_digest,
        listed=record.listed,
        chain_head=record.chain_head,
        published_at=record.frozen_at,
        beacon=named,
        winners=winners,
        alternates=contest.alternates,
        key=key,
        order=order,
        drawn_at=now,
    )


def _certificate_v1(
    contest: Contest, record: Draw, winners: int, order: list[str], now: datetime
) -> dict[str, object]:
    assert contest.seed is not None
    return draw.certificate_fields(
        contest=contest.slug,
        seed_hex=contest.seed,
        seed_commitment=contest.seed_commitment or "",
        digest=record.list_digest,
        chain_head=record.chain_head,
        public_randomness=record.public_randomness,
        winners=winners,
        alternates=contest.alternates,
        order=order,
        frozen_at=record.frozen_at,
        drawn_at=now,
    )
