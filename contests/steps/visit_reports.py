"""What the snippet on the brand page asks and tells about a visit: what its overlay
shows, where the visit stands, and the report that a worker verifies.

Each takes the ``visit`` token the step link put in the brand page's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tortoise.exceptions import IntegrityError

from contests.brands import host_allowed, url_allowed
from contests.entries import completed_step_ids
from contests.errors import N_, Conflict, InvalidInput, NotAllowed
from contests.models import Brand, Contest, Entry, Evidence, EvidenceStatus, Step
from contests.queries import ids
from contests.steps.visit import (
    VISIT,
    VISIT_TOKEN_SECONDS,
    VisitSettings,
    contest_of,
    visit_of,
)
from contests.tokens import Tokens
from contests.urls import host_of


class VisitState(StrEnum):
    """Where a visit stands, as the overlay on the brand page tells it."""

    OPEN = "open"  # nothing reported yet
    PENDING = "pending"  # reported, waiting for the worker
    COUNTED = "counted"  # the step is done
    REJECTED = "rejected"  # the worker found the report wanting


@dataclass(frozen=True)
class VisitStatus:
    state: VisitState
    done: int  # steps the entry has done
    total: int  # steps in the contest
    locale: str  # the participant's language


@dataclass(frozen=True)
class VisitInfo:
    contest: Contest
    step: Step
    entry: Entry
    number: int
    status: VisitStatus
    settings: VisitSettings
    # The page asking is one where this visit counts.
    here: bool
    # Seconds until the visit token expires: the snippet forgets the visit then.
    expires_in: int


async def _status(entry: Entry, step: Step, nonce: str) -> VisitStatus:
    done = await completed_step_ids(entry)
    total = await Step.filter(contest_id=step.contest_id).count()  # type: ignore[attr-defined]
    state = VisitState.COUNTED
    if step.id not in done:
        report = await Evidence.filter(nonce=nonce).only("id", "status").first()
        state = {
            None: VisitState.OPEN,
            EvidenceStatus.PENDING: VisitState.PENDING,
            EvidenceStatus.VERIFIED: VisitState.COUNTED,
            EvidenceStatus.REJECTED: VisitState.REJECTED,
        }[report.status if report else None]
    return VisitStatus(state, len(done), total, entry.locale)


async def visit_status(tokens: Tokens, visit_token: str) -> tuple[VisitStatus, Brand]:
    """Where the visit of a ``visit`` token stands, for the overlay to poll, and the
    brand whose pages may read it."""
    payload = tokens.read("visit", visit_token, VISIT_TOKEN_SECONDS)
    entry, step = await visit_of(payload)
    contest = await contest_of(step)
    return await _status(entry, step, str(payload.get("n"))), contest.brand


async def describe_visit(
    tokens: Tokens, visit_token: str, *, page_url: str, now: datetime
) -> VisitInfo:
    """What the snippet's overlay shows on the brand page at ``page_url``."""
    payload = tokens.read("visit", visit_token, VISIT_TOKEN_SECONDS)
    try:
        expires_in = int(float(payload["t"]) + VISIT_TOKEN_SECONDS - now.timestamp())
    except (KeyError, TypeError, ValueError, OverflowError):
        raise InvalidInput(N_("This link is not valid."), "link_invalid") from None
    entry, step = await visit_of(payload)
    contest = await contest_of(step)
    steps = await ids(Step.filter(contest=contest).order_by("position", "id"))
    settings = VISIT.settings(step)
    return VisitInfo(
        contest=contest,
        step=step,
        entry=entry,
        number=steps.index(step.id) + 1,
        status=await _status(entry, step, str(payload.get("n"))),
        settings=settings,
        here=settings.shows(page_url),
        expires_in=max(0, min(expires_in, VISIT_TOKEN_SECONDS)),
    )


async def report_visit(
    tokens: Tokens, visit_token: str, *, origin: str | None, page_url: str, now: datetime
) -> tuple[Evidence, Brand]:
    """Keep the snippet's report for a worker to verify; a replayed report is refused."""
    payload = tokens.read("visit", visit_token, VISIT_TOKEN_SECONDS)
    entry, step = await visit_of(payload)
    contest = await contest_of(step)
    if not host_allowed(contest.brand, host_of(origin)):
        raise NotAllowed(N_("Visits are only counted on the brand's own site."), "bad_origin")
    if not url_allowed(contest.brand, page_url):
        raise NotAllowed(N_("Visits are only counted on the brand's own site."), "bad_page")
    if not VISIT.settings(step).shows(page_url):
        raise NotAllowed(
            N_("This visit counts only on the step's own page: go back to it."), "wrong_page"
        )
    try:
        started = datetime.fromtimestamp(float(payload["t"]), UTC)
        nonce = str(payload["n"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise InvalidInput(N_("This link is not valid."), "link_invalid") from None
    try:
        evidence = await Evidence.create(
            nonce=nonce,
            entry=entry,
            step=step,
            reported_at=now,
            data={"started_at": started.isoformat(), "page_url": page_url[:500]},
        )
    except IntegrityError:
        raise Conflict(N_("This visit was already reported."), "visit_replayed") from None
    return evidence, contest.brand
