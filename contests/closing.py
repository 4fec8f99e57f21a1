"""Closing a contest: freeze the eligible list, draw winners and alternates once, and
queue the winners' emails, each step in one transaction."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit, draw, frozen, jobs, mail
from contests.errors import N_, Conflict
from contests.lifecycle import RUNNING
from contests.links import Links
from contests.models import Contest, ContestStatus, Draw, Entry, Prize, Step, Winner
from contests.queries import ids
from contests.steps import verdicts


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
    await frozen.fill(contest.id, contest.closed_at, required)
    digest, listed = await frozen.digest(contest.id)
    async with in_transaction():
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


async def run_draw(contest_id: int, now: datetime, *, links: Links) -> list[Winner]:
    """Draw winners and alternates exactly once and queue the winners' emails.

    The draw is computed before the write transaction, which then only checks that
    nobody drew meanwhile and writes the result.
    """
    contest = await Contest.get(id=contest_id).prefetch_related("brand")
    record = await Draw.filter(contest=contest).first()
    if record is None and contest.status is ContestStatus.CLOSED:
        if not await settled(contest):
            return []
        record = await _freeze(contest, now, actor="system")
    if record is None or record.drawn_at is not None or contest.seed is None:
        return []
    slots = await _prize_slots(contest)
    pseudonyms, weights = await frozen.columns(contest.id)
    order = draw.draw_sorted(
        contest.seed,
        record.list_digest,
        pseudonyms,
        weights,
        len(slots) + contest.alternates,
        record.public_randomness,
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
        record.certificate = draw.certificate_fields(
            contest=contest.slug,
            seed_hex=contest.seed,
            seed_commitment=contest.seed_commitment or "",
            digest=record.list_digest,
            chain_head=record.chain_head,
            public_randomness=record.public_randomness,
            winners=len(slots),
            alternates=contest.alternates,
            order=order,
            frozen_at=record.frozen_at,
            drawn_at=now,
        )
        await record.save(update_fields=["drawn_at", "certificate"])
        contest.status = ContestStatus.DRAWN
        await contest.save(update_fields=["status"])
        for winner in winners:
            if not winner.alternate:
                await _queue_winner_mail(contest, winner, now, links)
        await audit.record(
            actor="system",
            action="contest.drawn",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            winners=sum(1 for w in winners if not w.alternate),
            alternates=sum(1 for w in winners if w.alternate),
        )
    return winners


async def _queue_winner_mail(contest: Contest, winner: Winner, now: datetime, links: Links) -> None:
    participant = winner.entry.participant
    if participant is None or not participant.email:
        return
    prize = winner.prize
    await mail.queue(
        kind="winner",
        dedupe_key=f"winner:{winner.id}",
        template="winner",
        to_email=participant.email,
        to_name=participant.display_name,
        locale=winner.entry.locale,
        now=now,
        reply_to=contest.brand.reply_to,
        brand=contest.brand,
        contest=contest,
        prize_name=prize.name if prize else "",
        contest_url=links.contest(contest.slug),
        certificate_url=links.draw(contest.slug),
        pseudonym=winner.entry.public_id,
    )
