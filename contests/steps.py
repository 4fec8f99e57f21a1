"""Step kinds and how completion is proven: visit (link + snippet beacon) and code."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise.exceptions import IntegrityError

from contests.authoring import code_digest, normalise_code
from contests.brands import host_allowed, url_allowed
from contests.entries import record_completion, require_unlocked
from contests.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from contests.lifecycle import accepting_entries
from contests.models import (
    Brand,
    Completion,
    Contest,
    Entry,
    EntryStatus,
    Step,
    StepKind,
    VisitReport,
    VisitStatus,
)
from contests.queries import ids
from contests.tokens import Tokens
from contests.urls import host_of

VISIT_PARAM = "gk"
# A visit token travels in the brand page's address; it is good for one report.
VISIT_TOKEN_SECONDS = 2 * 60 * 60


@dataclass(frozen=True)
class VisitInfo:
    contest: Contest
    step: Step
    entry: Entry
    number: int
    total: int
    done: int


async def _completed_ids(entry: Entry) -> set[int]:
    return set(await ids(Completion.filter(entry=entry), "step_id"))


def _require_open(contest: Contest, now: datetime) -> None:
    if not accepting_entries(contest, now):
        raise Conflict(N_("This contest is not open right now."), "not_open")


def visit_link_token(tokens: Tokens, entry: Entry, step: Step) -> str:
    """The per-entry token behind a step's “Go” link on the contest page."""
    return tokens.sign("visit-link", {"e": entry.public_id, "s": step.public_id})


async def _load(entry_id: str, step_id: str) -> tuple[Entry, Step, Contest]:
    entry = await Entry.filter(public_id=entry_id).first()
    step = await Step.filter(public_id=step_id).first()
    if entry is None or step is None or entry.contest_id != step.contest_id:  # type: ignore[attr-defined]
        raise NotFound(N_("This step no longer exists."), "step_not_found")
    contest = await Contest.get(id=step.contest_id).prefetch_related("brand")  # type: ignore[attr-defined]
    return entry, step, contest


async def start_visit(tokens: Tokens, link_token: str, *, max_age: int, now: datetime) -> str:
    """Check a step link and return the brand page's address, carrying a visit token."""
    payload = tokens.read("visit-link", link_token, max_age)
    entry, step, contest = await _load(str(payload.get("e")), str(payload.get("s")))
    _require_open(contest, now)
    if step.kind is not StepKind.VISIT or not step.target_url:
        raise InvalidInput(N_("This step is not a visit."), "not_a_visit")
    require_unlocked(step, await _completed_ids(entry))
    if not url_allowed(contest.brand, step.target_url):
        raise NotAllowed(
            N_("This step's page is no longer on the brand's site."), "url_not_allowed"
        )
    visit = tokens.sign(
        "visit",
        {
            "e": entry.public_id,
            "s": step.public_id,
            "t": now.timestamp(),
            "n": secrets.token_hex(8),
        },
    )
    parts = urlsplit(step.target_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != VISIT_PARAM]
    query.append((VISIT_PARAM, visit))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def describe_visit(tokens: Tokens, visit_token: str) -> VisitInfo:
    """What the snippet's overlay shows on the brand page."""
    payload = tokens.read("visit", visit_token, VISIT_TOKEN_SECONDS)
    entry, step, contest = await _load(str(payload.get("e")), str(payload.get("s")))
    steps = await ids(Step.filter(contest=contest).order_by("position", "id"))
    number = steps.index(step.id) + 1
    done = await Completion.filter(entry=entry).count()
    return VisitInfo(contest, step, entry, number, len(steps), done)


async def report_visit(
    tokens: Tokens, visit_token: str, *, origin: str | None, page_url: str, now: datetime
) -> tuple[VisitReport, Brand]:
    """Keep the snippet's report for a worker to verify; a replayed report is refused."""
    payload = tokens.read("visit", visit_token, VISIT_TOKEN_SECONDS)
    entry, step, contest = await _load(str(payload.get("e")), str(payload.get("s")))
    if not host_allowed(contest.brand, host_of(origin)):
        raise NotAllowed(N_("Visits are only counted on the brand's own site."), "bad_origin")
    if not url_allowed(contest.brand, page_url):
        raise NotAllowed(N_("Visits are only counted on the brand's own site."), "bad_page")
    try:
        started = datetime.fromtimestamp(float(payload["t"]), UTC)
        nonce = str(payload["n"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(N_("This link is not valid."), "link_invalid") from None
    try:
        report = await VisitReport.create(
            nonce=nonce,
            entry=entry,
            step=step,
            started_at=started,
            reported_at=now,
            page_url=page_url[:500],
        )
    except IntegrityError:
        raise Conflict(N_("This visit was already reported."), "visit_replayed") from None
    return report, contest.brand


async def verify_visit(report_id: int) -> VisitReport | None:
    """A worker's verdict on a reported visit; running it twice changes nothing."""
    report = await VisitReport.filter(id=report_id).prefetch_related("entry", "step").first()
    if report is None or report.status is not VisitStatus.PENDING:
        return report
    step, entry = report.step, report.entry
    contest = await Contest.get(id=step.contest_id)  # type: ignore[attr-defined]
    reason = ""
    target_host = host_of(step.target_url)
    if entry.status is EntryStatus.DISQUALIFIED:
        reason = "entry disqualified"
    elif not accepting_entries(contest, report.reported_at):
        reason = "contest not open at report time"
    elif report.reported_at - report.started_at < timedelta(seconds=step.dwell_seconds):
        reason = f"left after less than {step.dwell_seconds} s"
    elif target_host is None or host_of(report.page_url) != target_host:
        reason = "reported from another site"
    else:
        try:
            require_unlocked(step, await _completed_ids(entry))
        except NotAllowed:
            reason = "step still locked"
    if reason:
        report.status, report.reason = VisitStatus.REJECTED, reason
    else:
        await record_completion(entry, step, report.reported_at)
        report.status = VisitStatus.VERIFIED
    await report.save(update_fields=["status", "reason"])
    return report


async def pending_visit_reports(older_than: datetime) -> list[int]:
    """Reports a lost job left behind; a cron hands them to the worker again."""
    return await ids(VisitReport.filter(status=VisitStatus.PENDING, reported_at__lte=older_than))


async def submit_code(entry: Entry, step: Step, code: str, now: datetime) -> bool:
    """True when the code is right (and the step is now done)."""
    contest = await Contest.get(id=entry.contest_id)  # type: ignore[attr-defined]
    _require_open(contest, now)
    if step.kind is not StepKind.CODE or step.code_hash is None:
        raise InvalidInput(N_("This step does not take a code."), "not_a_code")
    if entry.status is EntryStatus.DISQUALIFIED:
        raise NotAllowed(N_("This entry can no longer complete steps."), "disqualified")
    require_unlocked(step, await _completed_ids(entry))
    if not normalise_code(code):
        raise InvalidInput(N_("Type the code you found."), "code_empty")
    if not hmac.compare_digest(code_digest(step.public_id, code), step.code_hash):
        return False
    await record_completion(entry, step, now)
    return True
