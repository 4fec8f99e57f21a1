"""Reviewing flagged entries: a person reads the fraud signals' reasons and clears the
entry or disqualifies it, with a reason.

A disqualified entry is out of the draw (``entries.eligible`` and the frozen list's SQL
both leave it out), can no longer do steps, and its participant is told why, by email in
their language and on the contest page. Disqualifying is final and only possible while
the contest runs: once closed, the list is frozen and published. Clearing takes the
entry out of the queue until a new flag arrives. Every decision is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit, mail
from contests.errors import N_, NP_, Conflict, InvalidInput, NotFound
from contests.lifecycle import RUNNING
from contests.links import Links
from contests.models import (
    Contest,
    Entry,
    EntryStatus,
    FraudFlag,
    Marketer,
    Outbox,
    Review,
    ReviewDecision,
)
from contests.queries import execute
from contests.text import has_markup, usable

PAGE_SIZE = 25
REASON_MAX = 1000


@dataclass(frozen=True)
class Flagged:
    """An entry waiting for review, with its flags and the latest decision, if any."""

    entry: Entry
    flags: list[FraudFlag]
    review: Review | None


async def waiting_count(contest_id: int) -> int:
    """How many flagged entries wait for a person's decision, in one query."""
    rows = await execute(f"SELECT COUNT(DISTINCT f.entry_id) FROM {_WAITING}", [contest_id])  # noqa: S608
    return int(rows[0][0])


# Flags a decision has not answered yet: none was taken, or the entry was cleared before
# this flag came. A disqualified entry has nothing left to decide.
_WAITING = (
    "fraud_flag f LEFT JOIN review r ON r.entry_id = f.entry_id "
    "WHERE f.contest_id = ? AND (r.id IS NULL "
    "OR (r.decision = 'cleared' AND f.created_at > r.decided_at))"
)


async def waiting(
    contest_id: int, *, after: int | None = None, limit: int = PAGE_SIZE
) -> list[Flagged]:
    """A page of the entries waiting for review, oldest entry first, keyed on the entry's
    id (``after``: the last id of the previous page): two queries, whatever the number of
    flags."""
    rows = await execute(
        f"SELECT DISTINCT f.entry_id FROM {_WAITING} AND f.entry_id > ? "  # noqa: S608
        "ORDER BY f.entry_id LIMIT ?",
        [contest_id, after or 0, limit],
    )
    return await _with_flags(contest_id, [int(row[0]) for row in rows])


async def decided(contest_id: int, *, limit: int = PAGE_SIZE) -> list[Flagged]:
    """The latest decisions, newest first."""
    entry_ids = [
        r.entry_id  # type: ignore[attr-defined]
        for r in await Review.filter(contest_id=contest_id)
        .order_by("-decided_at", "-id")
        .limit(limit)
    ]
    return await _with_flags(contest_id, entry_ids)


async def _with_flags(contest_id: int, entry_ids: list[int]) -> list[Flagged]:
    if not entry_ids:
        return []
    entries = {
        e.id: e
        for e in await Entry.filter(id__in=entry_ids, contest_id=contest_id).select_related(
            "participant"
        )
    }
    flags: dict[int, list[FraudFlag]] = {}
    for flag in await FraudFlag.filter(entry_id__in=entry_ids).order_by("id"):
        flags.setdefault(flag.entry_id, []).append(flag)  # type: ignore[attr-defined]
    reviews = {r.entry_id: r for r in await Review.filter(entry_id__in=entry_ids)}  # type: ignore[attr-defined]
    return [
        Flagged(entry=entries[i], flags=flags.get(i, []), review=reviews.get(i))
        for i in entry_ids
        if i in entries
    ]


async def flagged_entry(contest_id: int, entry_id: int) -> Flagged:
    """One flagged entry of the contest, for the page that confirms a decision."""
    found = await _with_flags(contest_id, [entry_id])
    if not found or not found[0].flags:
        raise NotFound(N_("This entry is not flagged in this contest."), "entry_not_flagged")
    return found[0]


def _reason(text: str, *, required: bool) -> str:
    words = text.strip()
    if required and not words:
        raise InvalidInput(
            N_("Say why the entry is disqualified: the participant will read it."),
            "reason_required",
        )
    if len(words) > REASON_MAX:
        raise InvalidInput(
            NP_(
                "The reason is too long (at most %(num)s character).",
                "The reason is too long (at most %(num)s characters).",
            ),
            "reason_too_long",
            num=REASON_MAX,
        )
    if words and (not usable(words, multiline=True) or has_markup(words)):
        raise InvalidInput(
            N_("Write the reason as plain text, without HTML tags or control characters."),
            "bad_reason",
        )
    return words


async def clear(
    role: Marketer, contest: Contest, entry_id: int, note: str, *, now: datetime
) -> Review:
    """The flags are no reason to act: the entry leaves the queue, until a new flag."""
    words = _reason(note, required=False)
    async with in_transaction():
        flagged = await flagged_entry(contest.id, entry_id)
        if flagged.entry.status is EntryStatus.DISQUALIFIED:
            raise Conflict(N_("This entry is already disqualified."), "already_disqualified")
        review = await _decide(role, flagged, ReviewDecision.CLEARED, words, now)
        await audit.record(
            actor=role.email,
            action="entry.cleared",
            brand=role.brand,
            target=contest.slug,
            now=now,
            entry=flagged.entry.public_id,
            reasons=[f.reason for f in flagged.flags],
            note=words,
        )
    return review


async def disqualify(
    role: Marketer, contest: Contest, entry_id: int, reason: str, *, now: datetime, links: Links
) -> tuple[Review, Outbox | None]:
    """Out of the draw, for good, with the reason the participant is told in their
    language (the email, None when they have no address any more)."""
    words = _reason(reason, required=True)
    async with in_transaction():
        # The contest row is locked as closing locks it: an entry is disqualified before
        # its list is frozen, or not at all.
        locked = await Contest.select_for_update().get(id=contest.id)
        if locked.status not in RUNNING:
            raise Conflict(
                N_(
                    "This contest has closed and its list of entries is frozen and published: "
                    "an entry can no longer be disqualified."
                ),
                "list_frozen",
            )
        flagged = await flagged_entry(contest.id, entry_id)
        entry = flagged.entry
        if entry.status is EntryStatus.DISQUALIFIED:
            raise Conflict(N_("This entry is already disqualified."), "already_disqualified")
        entry.status = EntryStatus.DISQUALIFIED
        await entry.save(update_fields=["status"])
        review = await _decide(role, flagged, ReviewDecision.DISQUALIFIED, words, now)
        message = await _tell(entry, locked, role, words, now, links)
        await audit.record(
            actor=role.email,
            action="entry.disqualified",
            brand=role.brand,
            target=contest.slug,
            now=now,
            entry=entry.public_id,
            reasons=[f.reason for f in flagged.flags],
            reason=words,
        )
    return review, message


async def _decide(
    role: Marketer, flagged: Flagged, decision: ReviewDecision, reason: str, now: datetime
) -> Review:
    fields = {
        "decision": decision,
        "reason": reason,
        "reviewer": role,
        "reviewer_name": role.name or role.brand.name,
        "decided_at": now,
    }
    review, created = await Review.get_or_create(
        entry=flagged.entry,
        defaults={"contest_id": flagged.entry.contest_id, **fields},  # type: ignore[attr-defined]
    )
    if not created:
        await Review.filter(id=review.id).update(**fields)
        await review.refresh_from_db()
    return review


async def _tell(
    entry: Entry, contest: Contest, role: Marketer, reason: str, now: datetime, links: Links
) -> Outbox | None:
    return await mail.queue_to_participant(
        entry.participant,
        locale=entry.locale,
        brand=role.brand,
        kind="disqualified",
        dedupe_key=f"disqualified:{entry.id}",
        template="disqualified",
        now=now,
        contest=contest,
        reason=reason,
        contest_url=links.contest(contest.slug),
    )


async def review_of(entry: Entry) -> Review | None:
    """The decision on the participant's own entry, for their contest page."""
    return await Review.filter(entry_id=entry.id).first()
