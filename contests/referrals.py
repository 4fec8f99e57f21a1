"""Referrals: each entry has a personal link to its contest; whoever follows it, enters
and then does a step of their own credits the entry that shared it.

The link carries the entry's ``referral_code``, random and unrelated to its pseudonymous
id. Following it only leaves a signed cookie (an *arrival*), which survives signing in,
so that entering afterwards records the referral; no GET saves anything.

A referral is refused, with its reason kept, when:

- ``unknown_code``: the code names no entry (mistyped or made up);
- ``foreign_code``: it names an entry of another contest;
- ``tampered``: the cookie holding the arrival was altered;
- ``referrer_out``: the referrer's entry is disqualified or its account deleted;
- ``self_referral``: both accounts have the same email address, once the case, a
  ``+tag`` and, at Gmail, dots are ignored (one person with two accounts);
- ``same_device``: both entries came from the same browser;
- ``domain_ring``: both addresses are at the same domain and it is not one where anyone
  can have an address (a company's, or one's own domain, where anyone who owns it makes
  as many addresses as they like; throwaway mail services count as such domains too);
- ``mutual_referral``: the person referred had themselves referred the referrer before,
  in another contest (two people taking turns to credit each other).

The last two are *rings*; like a self-referral they also flag both entries for review.

A referral stays pending until the person referred completes a step that proves
something (a share, on their word alone, does not), then it is credited. A referral step
gives its points for each credited referral, up to its limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from tortoise.transactions import in_transaction

from contests import signals
from contests.errors import InvalidInput
from contests.models import (
    Completion,
    Contest,
    Entry,
    EntryStatus,
    Participant,
    Referral,
    ReferralStatus,
    ReferrerTally,
    Step,
)
from contests.queries import ids
from contests.signals import Reason
from contests.tokens import Tokens

KIND = "referral"
CODE = re.compile(r"[A-Za-z0-9_-]{8,32}")
ARRIVAL = "referral-arrival"
ARRIVAL_COOKIE = "gymkana_ref"
ARRIVAL_DAYS = 30
# The arrivals a browser remembers, latest first: enough for a few contests at once.
ARRIVALS_KEPT = 5
LEADERS = 10
# Dots in the local part do not matter at these.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class ReferralSettings(BaseModel):
    """A referral step: its points are given for each friend who counts, up to this."""

    max_referrals: int = Field(default=10, ge=1, le=1000)


class Refusal(StrEnum):
    UNKNOWN_CODE = "unknown_code"
    FOREIGN_CODE = "foreign_code"
    TAMPERED = "tampered"
    REFERRER_OUT = "referrer_out"
    SELF_REFERRAL = "self_referral"
    SAME_DEVICE = "same_device"
    DOMAIN_RING = "domain_ring"
    MUTUAL_REFERRAL = "mutual_referral"


@dataclass(frozen=True)
class Arrival:
    """A visitor who came through a referral link: the code as it came ("" when it
    could not be one), or the problem with what the browser kept."""

    code: str
    problem: str = ""


# --- The arrival, in a signed cookie -----------------------------------------------------


def remember_arrival(tokens: Tokens, cookie: str | None, slug: str, code: str) -> str:
    """The cookie's new value once a browser follows ``code``'s link to contest ``slug``.

    Only something that can be a code is kept, so the cookie stays small whatever the
    address held."""
    arrivals = _arrivals(tokens, cookie) or {}
    arrivals.pop(slug, None)
    kept = {slug: code if CODE.fullmatch(code) else ""}
    for other, value in list(arrivals.items())[: ARRIVALS_KEPT - 1]:
        kept[other] = value
    return tokens.sign(ARRIVAL, kept)


def arrival_for(tokens: Tokens, cookie: str | None, slug: str) -> Arrival | None:
    """How this browser came to contest ``slug``, if through a referral link."""
    if not cookie:
        return None
    try:
        arrivals = tokens.read(ARRIVAL, cookie, ARRIVAL_DAYS * 24 * 3600)
    except InvalidInput as exc:
        return Arrival(code="", problem=Refusal.TAMPERED) if exc.code == "link_invalid" else None
    code = arrivals.get(slug)
    return None if code is None else Arrival(code=str(code)[:32])


def _arrivals(tokens: Tokens, cookie: str | None) -> dict[str, str] | None:
    if not cookie:
        return None
    try:
        arrivals = tokens.read(ARRIVAL, cookie, ARRIVAL_DAYS * 24 * 3600)
    except InvalidInput:
        return None
    return {str(slug): str(code) for slug, code in arrivals.items()}


# --- Recording and crediting -------------------------------------------------------------


async def record_arrival(
    entry: Entry, participant: Participant, arrival: Arrival, now: datetime
) -> Referral:
    """Record that a new entry came through a referral link: pending, or refused."""
    referrer = None
    reason = arrival.problem
    if not reason:
        referrer = await Entry.filter(referral_code=arrival.code).first() if arrival.code else None
        if referrer is None:
            reason = Refusal.UNKNOWN_CODE
        elif referrer.contest_id != entry.contest_id:  # type: ignore[attr-defined]
            referrer, reason = None, Refusal.FOREIGN_CODE
        else:
            reason = await _refusal(referrer, entry, participant, now)
    return await Referral.create(
        contest_id=entry.contest_id,  # type: ignore[attr-defined]
        referrer=referrer,
        referred=entry,
        code=arrival.code,
        status=ReferralStatus.REFUSED if reason else ReferralStatus.PENDING,
        reason=reason,
        created_at=now,
    )


async def _refusal(referrer: Entry, entry: Entry, participant: Participant, now: datetime) -> str:
    """Why a referral between these two entries does not count, or ""."""
    them = await Participant.filter(id=referrer.participant_id).first()  # type: ignore[attr-defined]
    if them is None or referrer.status is EntryStatus.DISQUALIFIED:
        return Refusal.REFERRER_OUT
    if same_address(them.email, participant.email):
        for flagged in (referrer, entry):
            await signals.flag(flagged, Reason.SELF_REFERRAL, now, email=participant.email)
        return Refusal.SELF_REFERRAL
    if referrer.device_hash is not None and referrer.device_hash == entry.device_hash:
        # Two entries from one device: the same-device signal has flagged both already.
        return Refusal.SAME_DEVICE
    domain = shared_private_domain(them.email, participant.email)
    mutual = not domain and await _referred_before(participant, them)
    if domain or mutual:
        ring = {"domain": domain} if domain else {"mutual": True}
        for flagged in (referrer, entry):
            await signals.flag(flagged, Reason.REFERRAL_RING, now, **ring)
        return Refusal.DOMAIN_RING if domain else Refusal.MUTUAL_REFERRAL
    return ""


async def _referred_before(referrer: Participant, referred: Participant) -> bool:
    return await Referral.filter(
        referrer__participant_id=referrer.id, referred__participant_id=referred.id
    ).exists()


def same_address(first: str | None, second: str | None) -> bool:
    return bool(first and second) and _mailbox(first or "") == _mailbox(second or "")


def _mailbox(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def shared_private_domain(first: str | None, second: str | None) -> str | None:
    """The domain of both addresses when it is one only some people can have addresses at."""
    domain = signals.email_domain(first)
    if not domain or domain != signals.email_domain(second):
        return None
    return None if signals.public_mail_domain(domain) else domain


async def completion_arrived(
    entry: Entry, step: Step, *, proves: bool, now: datetime
) -> list[Entry]:
    """After ``entry`` completed ``step``: credit whoever referred it (when the step
    proves something), and give the entry's referral points if this step revealed its
    referral step. Returns the entries that completed their referral step just now."""
    completed: list[Entry] = []
    if proves:
        pending = await Referral.filter(referred_id=entry.id, status=ReferralStatus.PENDING).first()
        if pending is not None:
            completed.extend(await _credit(pending, now))
    revealed = await Step.filter(unlocks_after_id=step.id, kind=KIND).exists()
    if revealed and await refresh_points(entry, now):
        completed.append(entry)
    return completed


async def referrers_to_credit(entry_ids: list[int]) -> set[int]:
    """The entries that a completion of these entries may credit, whose rows ``_credit``
    locks. Whoever records completions locks these rows together with the entries' own,
    in id order, before anything else: a transaction that locked an entry and then
    waited for its referrer could otherwise wait in a circle with another that holds
    the referrer and waits for that entry (X referred R who referred Y: a worker's batch
    holding X and Y credits R, while R's code, typed in, credits X)."""
    return set(
        await ids(
            Referral.filter(
                referred_id__in=entry_ids,
                status=ReferralStatus.PENDING,
                referrer_id__not_isnull=True,
            ),
            "referrer_id",
        )
    )


async def _credit(referral: Referral, now: datetime) -> list[Entry]:
    async with in_transaction():
        # The referrer's row is locked so that two friends at once add up rightly
        # (already, by whoever records the completion: see ``referrers_to_credit``).
        referrer = await Entry.select_for_update().filter(id=referral.referrer_id).first()  # type: ignore[attr-defined]
        if (
            referrer is None
            or referrer.participant_id is None  # type: ignore[attr-defined]
            or referrer.status is EntryStatus.DISQUALIFIED
        ):
            referral.status, referral.reason = ReferralStatus.REFUSED, Refusal.REFERRER_OUT
        else:
            referral.status, referral.credited_at = ReferralStatus.CREDITED, now
        await referral.save(update_fields=["status", "reason", "credited_at"])
        credited = referrer is not None and referral.status is ReferralStatus.CREDITED
        if credited and referrer is not None and await refresh_points(referrer, now):
            return [referrer]
    return []


async def refresh_points(entry: Entry, now: datetime) -> bool:
    """Give the entry's unlocked referral steps their points: the step's points for each
    credited referral, up to the step's limit. True when a referral step is done just now."""
    steps = await Step.filter(contest_id=entry.contest_id, kind=KIND)  # type: ignore[attr-defined]
    if not steps:
        return False
    credited = await Referral.filter(referrer_id=entry.id, status=ReferralStatus.CREDITED).count()
    if not credited:
        return False
    completed = False
    done = set(await ids(Completion.filter(entry_id=entry.id), "step_id"))
    for step in steps:
        after = step.unlocks_after_id  # type: ignore[attr-defined]
        if after is not None and after not in done:
            continue
        points = step.points * min(credited, limit_of(step))
        completion, created = await Completion.get_or_create(
            entry_id=entry.id, step_id=step.id, defaults={"points": points, "completed_at": now}
        )
        completed = completed or created
        if not created and completion.points != points:
            completion.points = points
            await completion.save(update_fields=["points"])
    return completed


def limit_of(step: Step) -> int:
    return ReferralSettings.model_validate(step.config).max_referrals


# --- What the contest page shows ---------------------------------------------------------


@dataclass(frozen=True)
class Leader:
    name: str
    referrals: int


@dataclass(frozen=True)
class ReferralView:
    """The contest page's referral section: the viewer's own link and count (when they
    entered a contest with a referral step) and the top referrers (when shown)."""

    code: str | None
    counted: int
    limit: int
    points_each: int
    leaders: list[Leader]


async def referral_view(contest: Contest, entry: Entry | None, steps: list[Step]) -> ReferralView:
    """What the contest page shows about referrals; ``steps`` are the contest's, in
    order, as the page already read them."""
    step = next((s for s in steps if s.kind == KIND), None)
    mine = entry is not None and step is not None
    return ReferralView(
        code=entry.referral_code if entry is not None and mine else None,
        counted=await credited_count(entry) if entry is not None and mine else 0,
        limit=limit_of(step) if step is not None else 0,
        points_each=step.points if step is not None else 0,
        leaders=await leaderboard(contest) if contest.referral_leaderboard else [],
    )


async def credited_count(entry: Entry) -> int:
    return await Referral.filter(referrer_id=entry.id, status=ReferralStatus.CREDITED).count()


async def leaderboard(contest: Contest, size: int = LEADERS) -> list[Leader]:
    """The top referrers of a contest by credited referrals; of two with as many, the
    earlier entry first.

    The counts are kept per referrer as referrals are credited (``ReferrerTally``): the
    top ones are the first rows of an index, whatever the number of referrals; the
    names of the few at the top come after, by primary key.
    """
    rows = (
        await ReferrerTally.filter(contest_id=contest.id, credited__gt=0)
        .order_by("-credited", "referrer_id")
        .limit(size)
        .values("referrer_id", "credited")
    )
    if not rows:
        return []
    names = dict(
        await Entry.filter(id__in=[row["referrer_id"] for row in rows]).values_list(
            "id", "participant__display_name"
        )
    )
    return [
        Leader(name=str(names.get(row["referrer_id"]) or ""), referrals=row["credited"])
        for row in rows
    ]
