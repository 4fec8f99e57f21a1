"""Winners, claims and alternates: who holds each prize, how they claim it, and who takes
it over when a winner lets the deadline pass or is disqualified.

The draw names winners and alternates once; from then on every move is here. A winner
holds a prize from the draw until the claim deadline; the worker's clock reminds them
before it and, past it, hands the prize to the next alternate, who is told in turn. A
marketer may disqualify a winner, with a reason, which hands the prize on the same way.
Every move is one short transaction that locks the contest row, so two workers, or a
marketer pressing twice, move a prize once; every move is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from contests import audit, mail
from contests.content import in_language
from contests.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from contests.links import Links
from contests.models import (
    Contest,
    Draw,
    Entry,
    Participant,
    Prize,
    Winner,
    WinnerStatus,
)
from contests.text import check_text
from contests.tokens import Tokens


@dataclass(frozen=True)
class ClaimField:
    """A detail a marketer may ask winners for on the claim form."""

    label: str  # a message id, translated when shown
    max_length: int
    multiline: bool = False


# The small set of details a claim form can ask for, in the order the form shows them.
CLAIM_FIELDS: dict[str, ClaimField] = {
    "postal_address": ClaimField(N_("Postal address"), 500, multiline=True),
    "phone": ClaimField(N_("Phone number"), 40),
    "size": ClaimField(N_("Size"), 20),
    "note": ClaimField(N_("Anything else we should know"), 1000, multiline=True),
}
# A phone number as people type it: digits, spaces and the usual signs.
_PHONE_CHARACTERS = frozenset("0123456789 +-().")

# Holding a prize: told, and the deadline not past yet (or claimed).
HOLDING = (WinnerStatus.NOTIFIED, WinnerStatus.REMINDED, WinnerStatus.CLAIMED)
WAITING_TO_CLAIM = (WinnerStatus.NOTIFIED, WinnerStatus.REMINDED)
OUT = (WinnerStatus.EXPIRED, WinnerStatus.DISQUALIFIED)
# Reminders go out this long before the deadline, the first one first.
REMINDERS = (timedelta(days=3), timedelta(days=1))
MIN_CLAIM_DAYS, MAX_CLAIM_DAYS = 1, 90
# Claim links are checked against the winner's own deadline; this only bounds how long
# a signature may be trusted at all.
CLAIM_LINK_MAX_AGE = (MAX_CLAIM_DAYS + 30) * 86400
CLAIM_PURPOSE = "claim"


def claim_token(tokens: Tokens, winner: Winner) -> str:
    return tokens.sign(CLAIM_PURPOSE, {"w": winner.id})


async def winner_for_token(tokens: Tokens, token: str) -> Winner:
    """The winner a claim link names; refused when the signature does not hold."""
    payload = tokens.read(CLAIM_PURPOSE, token, CLAIM_LINK_MAX_AGE)
    winner_id = payload.get("w")
    winner = (
        await Winner.filter(id=winner_id).select_related("contest__brand", "entry", "prize").first()
        if isinstance(winner_id, int)
        else None
    )
    if winner is None:
        raise NotFound(N_("This prize no longer exists."), "winner_not_found")
    return winner


def state_of(winner: Winner) -> str:
    """The word the console shows for a winner: its status, or "replaced" once an
    alternate took its prize over."""
    if winner.replaced_by_rank is not None:
        return "replaced"
    if winner.alternate and winner.status is WinnerStatus.SELECTED:
        return "waiting"
    return winner.status.value


async def start(contest: Contest, winners: list[Winner], now: datetime) -> None:
    """Start the claim window of each winner holding a prize (inside the draw's own
    transaction); telling them is ``tell_due``'s job, which needs the app's links."""
    for winner in winners:
        if winner.prize_id is not None and not winner.alternate:  # type: ignore[attr-defined]
            _hand_prize(contest, winner, now)
            await winner.save(update_fields=["status", "claim_deadline"])


def _hand_prize(contest: Contest, winner: Winner, now: datetime) -> None:
    winner.status = WinnerStatus.NOTIFIED
    winner.claim_deadline = now + timedelta(days=contest.claim_days)


async def tell_due(now: datetime, *, links: Links, tokens: Tokens, limit: int = 100) -> int:
    """Email every prize holder not told yet (and mark those without an address as told
    on the site); how many were told. Safe to run twice: the outbox keeps one message
    per winner."""
    told = 0
    untold = (
        await Winner.filter(status=WinnerStatus.NOTIFIED, notified_at=None)
        .order_by("id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    for winner_id in untold:
        async with in_transaction():
            winner = await _locked_winner(id=winner_id, notified_at=None)
            if winner is None:
                continue
            mailed = await _queue_mail(winner, "winner", f"winner:{winner.id}", now, links, tokens)
            winner.notified_at = now
            await winner.save(update_fields=["notified_at"])
            await audit.record(
                actor="system",
                action="winner.notified",
                brand=winner.contest.brand,
                target=winner.contest.slug,
                now=now,
                rank=winner.rank,
                emailed=mailed,
            )
            told += 1
    return told


async def _locked_winner(**conditions: Any) -> Winner | None:
    """The winner matching ``conditions``, its row locked, with what its email needs.
    PostgreSQL locks no row through an outer join: the lock is taken alone first."""
    if await Winner.select_for_update().filter(**conditions).only("id").first() is None:
        return None
    return (
        await Winner.filter(**conditions)
        .select_related("contest__brand", "entry__participant", "prize")
        .first()
    )


async def _queue_mail(
    winner: Winner, template: str, dedupe_key: str, now: datetime, links: Links, tokens: Tokens
) -> bool:
    """Queue one email to a winner; False when they have no verified address, in which
    case they learn of their prize on the contest page only."""
    participant = winner.entry.participant
    if participant is None or not participant.email_verified:
        return False
    contest = winner.contest
    queued = await mail.queue_to_participant(
        participant,
        locale=winner.entry.locale,
        brand=contest.brand,
        kind=template,
        dedupe_key=dedupe_key,
        template=template,
        now=now,
        links=links,
        contest=contest,
        prize_name=(
            in_language(winner.prize, "name", winner.entry.locale, contest.language)
            if winner.prize
            else ""
        ),
        deadline=winner.claim_deadline,
        claim_url=links.claim(claim_token(tokens, winner)),
        contest_url=links.contest(contest.slug),
        certificate_url=links.draw(contest.slug),
        pseudonym=winner.entry.public_id,
        promoted=winner.alternate,
    )
    return queued is not None


async def remind_due(now: datetime, *, links: Links, tokens: Tokens) -> int:
    """Send each reminder whose time has come; how many were sent."""
    sent = 0
    for number, before in enumerate(REMINDERS):
        due = await Winner.filter(
            status__in=WAITING_TO_CLAIM,
            reminders=number,
            claim_deadline__gt=now,
            claim_deadline__lte=now + before,
        ).values_list("id", flat=True)
        for winner_id in due:
            async with in_transaction():
                winner = await _locked_winner(
                    id=winner_id, reminders=number, status__in=WAITING_TO_CLAIM
                )
                if winner is None:
                    continue
                # A reminder whose time passed unsent (the window shorter than it)
                # counts as sent: one email near the deadline is enough.
                winner.reminders = len(
                    [b for b in REMINDERS if winner.claim_deadline - b <= now]  # type: ignore[operator]
                )
                winner.status = WinnerStatus.REMINDED
                await winner.save(update_fields=["reminders", "status"])
                mailed = await _queue_mail(
                    winner,
                    "claim_reminder",
                    f"claim-reminder:{winner.id}:{number}",
                    now,
                    links,
                    tokens,
                )
                await audit.record(
                    actor="system",
                    action="winner.reminded",
                    brand=winner.contest.brand,
                    target=winner.contest.slug,
                    now=now,
                    rank=winner.rank,
                    emailed=mailed,
                )
                sent += 1
    return sent


async def expire_due(now: datetime) -> int:
    """Past their deadline, winners lose their prize to the next alternate; how many."""
    expired = 0
    due = await Winner.filter(status__in=WAITING_TO_CLAIM, claim_deadline__lte=now).values_list(
        "id", "contest_id"
    )
    for winner_id, contest_id in due:
        async with in_transaction():
            contest = await _locked_contest(contest_id)
            winner = await Winner.filter(
                id=winner_id, status__in=WAITING_TO_CLAIM, claim_deadline__lte=now
            ).first()
            if winner is None:
                continue
            winner.status = WinnerStatus.EXPIRED
            await winner.save(update_fields=["status"])
            await audit.record(
                actor="system",
                action="winner.expired",
                brand=contest.brand,
                target=contest.slug,
                now=now,
                rank=winner.rank,
            )
            await _promote_next(contest, winner, now, actor="system")
            expired += 1
    return expired


async def _locked_contest(contest_id: int) -> Contest:
    return await Contest.select_for_update().get(id=contest_id).prefetch_related("brand")


async def _promote_next(contest: Contest, replaced: Winner, now: datetime, *, actor: str) -> None:
    """Hand the prize of a winner who is out to the first alternate still waiting; with
    none left, the prize stays unawarded and the console says so."""
    if replaced.prize_id is None:  # type: ignore[attr-defined]
        return
    alternate = (
        await Winner.filter(contest=contest, alternate=True, status=WinnerStatus.SELECTED)
        .order_by("rank")
        .first()
    )
    if alternate is None:
        await audit.record(
            actor=actor,
            action="prize.unawarded",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            rank=replaced.rank,
        )
        return
    alternate.prize_id = replaced.prize_id  # type: ignore[attr-defined]
    _hand_prize(contest, alternate, now)
    await alternate.save(update_fields=["prize_id", "status", "claim_deadline"])
    replaced.replaced_by_rank = alternate.rank
    await replaced.save(update_fields=["replaced_by_rank"])
    await audit.record(
        actor=actor,
        action="winner.promoted",
        brand=contest.brand,
        target=contest.slug,
        now=now,
        rank=alternate.rank,
        replaces=replaced.rank,
    )


async def disqualify(
    contest: Contest, rank: int, reason: str, *, actor: str, now: datetime, links: Links
) -> bool:
    """Take a drawn entry out, with a reason, tell them why in their language, and hand
    its prize to the next alternate; False when it was already out (a second press
    changes nothing, and tells nobody again)."""
    reason = check_text(reason, N_("Reason")).strip()
    if len(reason) > 300:
        raise InvalidInput(
            N_("“%(field)s” is too long (at most %(max)s characters)."),
            "too_long",
            field=N_("Reason"),
            max=300,
        )
    if not reason:
        raise InvalidInput(
            N_("Say why this winner is disqualified: they will read it."),
            "reason_required",
        )
    async with in_transaction():
        contest = await _locked_contest(contest.id)
        winner = await Winner.filter(contest=contest, rank=rank).first()
        if winner is None:
            raise NotFound(N_("There is no winner with that place."), "winner_not_found")
        if winner.status in OUT:
            return False
        winner.status = WinnerStatus.DISQUALIFIED
        winner.reason = reason
        await winner.save(update_fields=["status", "reason"])
        await audit.record(
            actor=actor,
            action="winner.disqualified",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            rank=rank,
            reason=reason,
        )
        await _tell_disqualified(contest, winner, now, links)
        await _promote_next(contest, winner, now, actor=actor)
    return True


async def _tell_disqualified(contest: Contest, winner: Winner, now: datetime, links: Links) -> None:
    """The email a disqualified winner gets, as a participant disqualified in review does:
    in their entry's language, with the reason, queued with the change itself."""
    entry = await Entry.get(id=winner.entry_id).select_related("participant")  # type: ignore[attr-defined]
    await mail.queue_to_participant(
        entry.participant,
        locale=entry.locale,
        brand=contest.brand,
        kind="winner_disqualified",
        dedupe_key=f"winner-disqualified:{winner.id}",
        template="winner_disqualified",
        now=now,
        links=links,
        contest=contest,
        reason=winner.reason,
        contest_url=links.contest(contest.slug),
    )


async def claim(
    winner: Winner, participant: Participant, fields: dict[str, str], *, now: datetime
) -> Winner:
    """Record the details a winner sends for their prize; only the winner may, and only
    while their claim is open."""
    owned = Entry.filter(id=winner.entry_id, participant_id=participant.id)  # type: ignore[attr-defined]
    if not await owned.exists():
        raise NotAllowed(
            N_(
                "This prize belongs to another account. Sign in with the account you "
                "entered the contest with."
            ),
            "not_your_prize",
        )
    async with in_transaction():
        contest = await _locked_contest(winner.contest_id)  # type: ignore[attr-defined]
        fresh = await Winner.get(id=winner.id)
        if fresh.status is WinnerStatus.CLAIMED:
            raise Conflict(N_("You have already claimed this prize."), "already_claimed")
        if fresh.status not in WAITING_TO_CLAIM or (
            fresh.claim_deadline is not None and fresh.claim_deadline <= now
        ):
            raise Conflict(
                N_("The time to claim this prize is over, so it went to an alternate."),
                "claim_closed",
            )
        values = validate(contest, fields)
        fresh.status = WinnerStatus.CLAIMED
        fresh.claimed_at = now
        fresh.claim_data = values
        await fresh.save(update_fields=["status", "claimed_at", "claim_data"])
        # The details themselves stay out of the log: they are the winner's, not the team's.
        await audit.record(
            actor=participant.public_id,
            action="winner.claimed",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            rank=fresh.rank,
        )
    return fresh


def validate(contest: Contest, fields: dict[str, str]) -> dict[str, str]:
    """The declared fields, cleaned: every one is required, within its length."""
    values: dict[str, str] = {}
    for name in contest.claim_fields:
        spec = CLAIM_FIELDS.get(name)
        if spec is None:
            continue
        value = check_text(fields.get(name, ""), spec.label, multiline=spec.multiline).strip()
        if len(value) > spec.max_length:
            raise InvalidInput(
                N_("“%(field)s” is too long (at most %(max)s characters)."),
                "too_long",
                field=spec.label,
                max=spec.max_length,
            )
        if not value:
            raise InvalidInput(
                N_("Please fill in “%(field)s”: we need it to send your prize."),
                "claim_field_missing",
                field=spec.label,
            )
        if name == "phone" and (
            not set(value) <= _PHONE_CHARACTERS or sum(c.isdigit() for c in value) < 6
        ):
            raise InvalidInput(
                N_("That phone number does not look right: use digits, spaces and +."),
                "claim_phone_invalid",
            )
        values[name] = value
    return values


async def set_claim_form(
    contest: Contest, *, days: int, fields: list[str], actor: str, now: datetime
) -> None:
    """Set the claim window and the details asked for; fixed once winners are told."""
    if not MIN_CLAIM_DAYS <= days <= MAX_CLAIM_DAYS:
        raise InvalidInput(
            N_("The claim window is from %(low)s to %(high)s days."),
            "claim_days_range",
            low=MIN_CLAIM_DAYS,
            high=MAX_CLAIM_DAYS,
        )
    unknown = [name for name in fields if name not in CLAIM_FIELDS]
    if unknown:
        raise InvalidInput(N_("The claim form cannot ask for that."), "claim_field_unknown")
    async with in_transaction():
        contest = await _locked_contest(contest.id)
        if await Winner.filter(contest=contest).exists():
            raise Conflict(
                N_("Winners have been drawn: what they are asked can no longer change."),
                "claims_started",
            )
        contest.claim_days = days
        contest.claim_fields = [name for name in CLAIM_FIELDS if name in fields]
        await contest.save(update_fields=["claim_days", "claim_fields"])
        await audit.record(
            actor=actor,
            action="contest.claim_form",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            days=days,
            fields=contest.claim_fields,
        )


@dataclass(frozen=True)
class Shortfall:
    """How many prize units there are and how many are, or can be, given."""

    units: int
    # Who can get a prize: entrants before close, the frozen list after it, prize
    # holders after the draw; None when not known yet.
    candidates: int | None
    # Whether ``candidates`` is the frozen list (after close) rather than the entrants.
    listed_only: bool
    awarded: int | None
    alternates_left: int | None

    @property
    def short(self) -> int:
        given = self.awarded if self.awarded is not None else self.candidates
        return max(0, self.units - given) if given is not None else 0


async def shortfall(contest: Contest) -> Shortfall:
    """Whether the contest has more prize units than it can give, before and after the draw."""
    units = sum(
        prize.quantity for prize in await Prize.filter(contest=contest).only("id", "quantity")
    )
    record = await Draw.filter(contest=contest).only("id", "listed", "drawn_at").first()
    if record is None:
        return Shortfall(units, contest.entry_count, False, None, None)
    if record.drawn_at is None:
        return Shortfall(units, record.listed, True, None, None)
    rows = await Winner.filter(contest=contest).values_list(
        "prize_id", "status", "alternate", "notified_at"
    )
    awarded = sum(1 for prize, status, _, _ in rows if prize is not None and status in HOLDING)
    waiting = sum(1 for _, status, alt, _ in rows if alt and status is WinnerStatus.SELECTED)
    return Shortfall(units, record.listed, True, awarded, waiting)


async def winners_of(contest: Contest) -> list[Winner]:
    """Every drawn entry, winners then alternates by place, with what the console shows."""
    return (
        await Winner.filter(contest=contest)
        .select_related("entry__participant", "prize")
        .order_by("rank")
    )


async def advance(now: datetime, *, links: Links, tokens: Tokens) -> None:
    """The worker's clock: tell new prize holders, remind, and expire."""
    await tell_due(now, links=links, tokens=tokens)
    await remind_due(now, links=links, tokens=tokens)
    await expire_due(now)
    # Alternates promoted just now are told at once, not on the next tick.
    await tell_due(now, links=links, tokens=tokens)
