"""Verdicts on reported evidence, a batch at a time.

A worker takes the oldest pending reports (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so
several workers share a backlog without judging a report twice; SQLite's write lock does
the same), reads what the verdicts need in a few set-based queries, judges each report in
memory and writes the completions and verdicts back, all in one transaction: a worker
killed half-way leaves every report of its batch pending, to be judged again.

Each report is judged as of the moment it was reported, not when the worker reaches it:
a visit reported while the contest was open counts even if its verdict comes after the
close (the close waits for it before freezing the list, see ``contests.closing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from contests import referrals, signals
from contests.entries import eligible, tell_if_in_the_draw
from contests.lifecycle import was_accepting
from contests.links import Links
from contests.models import (
    Completion,
    Contest,
    Entry,
    EntryStatus,
    Evidence,
    EvidenceStatus,
    Referral,
    ReferralStatus,
    Step,
)
from contests.queries import execute
from contests.steps.registry import kind_of

# Reports judged per transaction: big enough that each query carries many rows, small
# enough that a batch holds SQLite's write lock for a fraction of a second and stays
# far below PostgreSQL's 32,767 arguments per statement.
VERIFY_BATCH = 1000


@dataclass
class Verdicts:
    """What a batch decided."""

    verified: int = 0
    rejected: int = 0

    @property
    def judged(self) -> int:
        return self.verified + self.rejected


@dataclass
class _Done:
    """One entry's completed steps (id → points) before and during the batch."""

    before: dict[int, int]
    now: dict[int, int] = field(default_factory=dict)


async def _claim(limit: int, only: Sequence[int] | None) -> list[int]:
    """The oldest pending reports no other worker holds, locked until the commit."""
    where = "status = ?"
    values: list[Any] = [EvidenceStatus.PENDING.value]
    if only is not None:
        where += f" AND id IN ({', '.join('?' * len(only))})"
        values.extend(only)
    sql = f"SELECT id FROM evidence WHERE {where} ORDER BY id LIMIT ?"  # noqa: S608 - placeholders only
    if connections.get("default").capabilities.dialect == "postgres":
        sql += " FOR UPDATE SKIP LOCKED"
    return [int(row[0]) for row in await execute(sql, [*values, limit])]


async def verify_pending(
    *, links: Links, limit: int = VERIFY_BATCH, only: Sequence[int] | None = None
) -> Verdicts:
    """Judge up to ``limit`` pending reports (of ``only``, when given), oldest first, in
    one transaction. Running it again on judged reports changes nothing."""
    async with in_transaction():
        claimed = await _claim(limit, only)
        if not claimed:
            return Verdicts()
        return await _judge(claimed, links)


async def _judge(claimed: list[int], links: Links) -> Verdicts:
    reports = await Evidence.filter(id__in=claimed).order_by("id")
    entry_ids = sorted({report.entry_id for report in reports})  # type: ignore[attr-defined]
    # Entries are locked in id order: a completion elsewhere (a code typed in) waits for
    # this batch, then sees its completions, so exactly one of them completes a set.
    # Whoever referred them is locked in the same order, before crediting (see
    # ``referrals.referrers_to_credit``).
    batch = set(entry_ids)
    referrers = await referrals.referrers_to_credit(entry_ids)
    entries = {
        entry.id: entry
        for entry in await Entry.select_for_update()
        .filter(id__in=sorted(batch | referrers))
        .order_by("id")
        if entry.id in batch
    }
    steps = {
        step.id: step
        for step in await Step.filter(id__in={r.step_id for r in reports})  # type: ignore[attr-defined]
    }
    contest_ids = {step.contest_id for step in steps.values()}  # type: ignore[attr-defined]
    contests = {c.id: c for c in await Contest.filter(id__in=contest_ids)}
    required: dict[int, set[int]] = {cid: set() for cid in contest_ids}
    reveals_referral: set[int] = set()
    for row in await Step.filter(contest_id__in=contest_ids).values(
        "id", "contest_id", "required", "kind", "unlocks_after_id"
    ):
        if row["required"]:
            required[row["contest_id"]].add(row["id"])
        if row["kind"] == referrals.KIND and row["unlocks_after_id"] is not None:
            reveals_referral.add(row["unlocks_after_id"])
    done = {entry_id: _Done(before={}) for entry_id in entry_ids}
    for row in await Completion.filter(entry_id__in=entry_ids).values(
        "entry_id", "step_id", "points"
    ):
        done[row["entry_id"]].before[row["step_id"]] = row["points"]
    for steps_done in done.values():
        steps_done.now = dict(steps_done.before)

    verdicts = Verdicts()
    verified: list[int] = []
    rejected: dict[str, list[int]] = {}
    new: list[tuple[Evidence, Entry, Step]] = []
    for report in reports:
        entry = entries[report.entry_id]  # type: ignore[attr-defined]
        step = steps[report.step_id]  # type: ignore[attr-defined]
        contest = contests[step.contest_id]  # type: ignore[attr-defined]
        entry_done = done[entry.id].now
        reason = _reason(report, entry, step, contest, entry_done)
        if reason:
            rejected.setdefault(reason, []).append(report.id)
            verdicts.rejected += 1
            continue
        verified.append(report.id)
        verdicts.verified += 1
        if step.id not in entry_done:
            entry_done[step.id] = step.points
            new.append((report, entry, step))

    if new:
        # One statement for the whole batch: the running counts it moves
        # (contests/tallies.py) are then taken in one order, so that two workers' batches
        # never wait for each other's counters in a circle, as a row per statement would.
        await execute(
            "INSERT INTO completion (entry_id, step_id, points, completed_at) VALUES "  # noqa: S608
            + ", ".join(["(?, ?, ?, ?)"] * len(new))
            + " ON CONFLICT (entry_id, step_id) DO NOTHING",
            [
                value
                for report, entry, step in new
                for value in (entry.id, step.id, step.points, report.reported_at)
            ],
        )
    if verified:
        await Evidence.filter(id__in=verified).update(status=EvidenceStatus.VERIFIED)
    for reason, report_ids in rejected.items():
        await Evidence.filter(id__in=report_ids).update(
            status=EvidenceStatus.REJECTED, reason=reason
        )
    await _what_follows(new, done, required, reveals_referral, links)
    return verdicts


def _reason(
    report: Evidence, entry: Entry, step: Step, contest: Contest, done: dict[int, int]
) -> str:
    """Why the report does not count, or "" when it does (an internal reason, in English)."""
    if entry.status is EntryStatus.DISQUALIFIED:
        return "entry disqualified"
    if entry.contest_id != step.contest_id:  # type: ignore[attr-defined]
        return "step of another contest"
    if not was_accepting(contest, report.reported_at):
        return "contest not open at report time"
    reason = kind_of(step).verdict(step, report)
    if reason:
        return reason
    after = step.unlocks_after_id  # type: ignore[attr-defined]
    if after is not None and after not in done:
        return "step still locked"
    return ""


async def _what_follows(
    new: list[tuple[Evidence, Entry, Step]],
    done: dict[int, _Done],
    required: dict[int, set[int]],
    reveals_referral: set[int],
    links: Links,
) -> None:
    """What follows from the new completions: fraud signals of their timing, referrals
    they credit, and the "you are in the draw" email. The checks run in memory; the
    database is asked only for what actually follows (the rare flag, referral, email)."""
    if not new:
        return
    referred = {
        int(row["referred_id"])
        for row in await Referral.filter(
            referred_id__in=sorted({entry.id for _, entry, _ in new}),
            status=ReferralStatus.PENDING,
        ).values("referred_id")
    }
    counted: dict[int, int] = {}
    completed_sets: dict[int, tuple[Entry, datetime]] = {}
    for report, entry, step in new:
        kind = kind_of(step)
        entry_done = done[entry.id]
        counted[entry.id] = counted.get(entry.id, len(entry_done.before)) + 1
        for reason, details in signals.timing_signals(
            report.reported_at - entry.created_at,
            kind.least_seconds(step),
            counted[entry.id],
            step.public_id,
        ):
            await signals.flag_entry(
                entry.id,
                entry.contest_id,  # type: ignore[attr-defined]
                reason,
                report.reported_at,
                details,
            )
        if (kind.proves and entry.id in referred) or step.id in reveals_referral:
            for other in await referrals.completion_arrived(
                entry, step, proves=kind.proves, now=report.reported_at
            ):
                await tell_if_in_the_draw(other, report.reported_at, links)
            referred.discard(entry.id)
        contest_required = required[entry.contest_id]  # type: ignore[attr-defined]
        if not eligible(entry.status, contest_required, entry_done.before) and eligible(
            entry.status, contest_required, entry_done.now
        ):
            completed_sets[entry.id] = (entry, report.reported_at)
    for entry, at in completed_sets.values():
        await tell_if_in_the_draw(entry, at, links)


async def pending_before(contest_id: int, end: datetime) -> bool:
    """Whether reports made before ``end`` in the contest still wait for their verdict."""
    return await Evidence.filter(
        status=EvidenceStatus.PENDING, step__contest_id=contest_id, reported_at__lt=end
    ).exists()


async def any_pending(older_than: datetime) -> bool:
    """Whether a report waits since before ``older_than``: its job may have been lost."""
    return await Evidence.filter(
        status=EvidenceStatus.PENDING, reported_at__lte=older_than
    ).exists()
