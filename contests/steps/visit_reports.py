"""What the snippet on the brand page asks and tells about a visit: what its overlay
shows, where the visit stands, and the report that a worker verifies.

Each takes the ``visit`` token the step link put in the brand page's address.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise import connections

from contests.entries import completed_step_ids
from contests.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from contests.models import Brand, Contest, Entry, Evidence, EvidenceStatus, Step
from contests.queries import column, execute, ids
from contests.steps.visit import (
    VISIT,
    VISIT_TOKEN_SECONDS,
    VisitSettings,
    contest_of,
    visit_of,
)
from contests.steps.visit_facts import VisitFacts, load_facts
from contests.tokens import Tokens

# The evidence table keeps nonces of up to this many characters.
NONCE_LENGTH = 32


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


class Stored(StrEnum):
    """What became of a report handed to ``store_reports``."""

    STORED = "stored"
    REPLAYED = "replayed"  # its nonce was reported before
    NO_ENTRY = "no_entry"  # the entry is gone (its data deleted)


@dataclass(frozen=True)
class VisitReport:
    """A report that passed every check the beacon can make without the database."""

    nonce: str
    entry: str  # the entry's public id, as the token names it
    step_id: int
    contest_id: int
    reported_at: datetime
    data: dict[str, str]


@dataclass(frozen=True)
class StoredReport:
    outcome: Stored
    evidence_id: int | None = None


def check_report(
    facts: VisitFacts | None,
    payload: dict[str, Any],
    *,
    origin: str | None,
    page_url: str,
    now: datetime,
) -> VisitReport:
    """Check a report against its signed token's ``payload`` and the step's ``facts``;
    what needs the database (the entry, a replay) is left to ``store_reports``."""
    if facts is None:
        raise NotFound(N_("This step no longer exists."), "step_not_found")
    refusal = facts.refusal(origin, page_url)
    if refusal in ("bad_origin", "bad_page"):
        raise NotAllowed(N_("Visits are only counted on the brand's own site."), refusal)
    if refusal:
        raise NotAllowed(
            N_("This visit counts only on the step's own page: go back to it."), refusal
        )
    if not facts.accepting(now):
        raise Conflict(N_("This contest is not open right now."), "not_open")
    try:
        started = datetime.fromtimestamp(float(payload["t"]), UTC)
        nonce = str(payload["n"])
        entry = str(payload["e"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise InvalidInput(N_("This link is not valid."), "link_invalid") from None
    if not 0 < len(nonce) <= NONCE_LENGTH:
        raise InvalidInput(N_("This link is not valid."), "link_invalid")
    return VisitReport(
        nonce=nonce,
        entry=entry,
        step_id=facts.step.id,
        contest_id=facts.contest.id,
        reported_at=now,
        data={"started_at": started.isoformat(), "page_url": page_url[:500]},
    )


# Reports name their entry by its public id: the insert finds it (in the report's
# contest) itself, so storing a batch is one statement and one round trip. A nonce already
# stored is skipped by the unique index: a replay stores nothing. (Each statement begins
# with WITH: the database drivers' clients return rows only for statements that do not
# begin with INSERT.)
_INSERT = (
    "INSERT INTO evidence (nonce, entry_id, step_id, reported_at, data, status, reason) "
    "SELECT report.nonce, entry.id, report.step_id, report.reported_at, report.data, ?, '' "
    "FROM {reports} JOIN entry ON entry.public_id = report.entry "
    "AND entry.contest_id = report.contest_id "
    # SQLite needs a WHERE to read the ON CONFLICT below as the insert's own.
    "WHERE true ON CONFLICT (nonce) DO NOTHING RETURNING id, nonce"
)
# PostgreSQL takes the batch as six arrays: one statement text (prepared once) whatever
# the batch's size.
_POSTGRES_INSERT = "WITH stored AS ({insert}) SELECT id, nonce FROM stored".format(  # noqa: S608
    insert=_INSERT.format(
        reports="unnest(?::text[], ?::text[], ?::int[], ?::int[], ?::timestamptz[], ?::jsonb[]) "
        "AS report (nonce, entry, step_id, contest_id, reported_at, data)"
    )
)


def _sqlite_insert(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)
    return (
        f"WITH report (nonce, entry, step_id, contest_id, reported_at, data) AS (VALUES {values}) "
        + _INSERT.format(reports="report")
    )


async def store_reports(reports: Sequence[VisitReport]) -> list[StoredReport]:
    """Keep a batch of reports for a worker to verify, in one statement; each report's
    outcome, in order. A report is stored once its outcome says so, never before."""
    first: dict[str, int] = {}
    for index, report in enumerate(reports):
        first.setdefault(report.nonce, index)
    unique = [reports[index] for index in first.values()]
    columns = [
        [r.nonce for r in unique],
        [r.entry for r in unique],
        [r.step_id for r in unique],
        [r.contest_id for r in unique],
        [r.reported_at for r in unique],
        [json.dumps(r.data) for r in unique],
    ]
    status = EvidenceStatus.PENDING.value
    if connections.get("default").capabilities.dialect == "postgres":
        sql, values = _POSTGRES_INSERT, [status, *columns]
    else:
        sql = _sqlite_insert(len(unique))
        values = [*(value for row in zip(*columns, strict=True) for value in row), status]
    rows = await execute(sql, values)
    stored = {str(row[1]): int(row[0]) for row in rows}
    missing = [report.nonce for report in unique if report.nonce not in stored]
    # Only when something was refused: which of them were replays.
    replayed = set(await column(Evidence.filter(nonce__in=missing), "nonce")) if missing else set()
    outcomes: list[StoredReport] = []
    for index, report in enumerate(reports):
        if first[report.nonce] != index or report.nonce in replayed:
            outcomes.append(StoredReport(Stored.REPLAYED))
        elif report.nonce in stored:
            outcomes.append(StoredReport(Stored.STORED, stored[report.nonce]))
        else:
            outcomes.append(StoredReport(Stored.NO_ENTRY))
    return outcomes


def outcome_or_error(stored: StoredReport) -> int:
    """The stored report's evidence id; a replay or a lost entry is refused."""
    if stored.outcome is Stored.REPLAYED:
        raise Conflict(N_("This visit was already reported."), "visit_replayed")
    if stored.evidence_id is None:
        raise NotFound(N_("This step no longer exists."), "step_not_found")
    return stored.evidence_id


def read_visit_token(tokens: Tokens, visit_token: str) -> dict[str, Any]:
    """The payload of a ``visit`` token: its signature and age checked in process."""
    return tokens.read("visit", visit_token, VISIT_TOKEN_SECONDS)


async def report_visit(
    tokens: Tokens, visit_token: str, *, origin: str | None, page_url: str, now: datetime
) -> tuple[Evidence, Brand]:
    """Keep one report for a worker to verify (the beacon gathers many into one write);
    a replayed report is refused."""
    payload = read_visit_token(tokens, visit_token)
    facts = await load_facts(str(payload.get("s")))
    report = check_report(facts, payload, origin=origin, page_url=page_url, now=now)
    [stored] = await store_reports([report])
    evidence = await Evidence.get(id=outcome_or_error(stored))
    assert facts is not None
    return evidence, facts.brand
