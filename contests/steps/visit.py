"""Visit steps: a signed link to a page of the brand's site, where the snippet reports
the visit once the participant has stayed long enough; a worker verifies the report.

The link (``visit-link`` token) is per entry and step; following it gives the brand page
a ``visit`` token, good for one report (its nonce is unique in the evidence table).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, Field
from tortoise.exceptions import IntegrityError

from contests.brands import host_allowed, url_allowed
from contests.entries import completed_step_ids, require_unlocked
from contests.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from contests.lifecycle import require_accepting
from contests.models import Brand, Completion, Contest, Entry, Evidence, Step
from contests.queries import ids
from contests.steps.kind import CompletedBy, StepKind
from contests.tokens import Tokens
from contests.urls import host_of

VISIT_PARAM = "gk"
# A visit token travels in the brand page's address; it is good for one report.
VISIT_TOKEN_SECONDS = 2 * 60 * 60


class VisitSettings(BaseModel):
    target_url: str = Field(min_length=1, max_length=500)
    dwell_seconds: int = Field(default=5, ge=0, le=600)


class Visit(StepKind[VisitSettings]):
    name = "visit"
    noun = N_("visit")
    label = N_("Visit a page of your site")
    completed_by = CompletedBy.EVIDENCE
    settings_model = VisitSettings
    form_fields: ClassVar[Mapping[str, int]] = {"target_url": 500, "dwell_seconds": 12}

    def configure(
        self, brand: Brand, step_public_id: str, raw: Mapping[str, object]
    ) -> dict[str, Any]:
        target_url = str(raw.get("target_url") or "").strip()
        if not url_allowed(brand, target_url):
            raise InvalidInput(
                N_(
                    "A visit step must lead to a page of the brand's site (%(domains)s): "
                    "check the address."
                ),
                "url_not_allowed",
                domains=", ".join(brand.site_domains) or "—",
            )
        dwell = raw.get("dwell_seconds")
        try:
            seconds = 5 if dwell in (None, "") else int(str(dwell))
        except ValueError:
            seconds = -1
        if not 0 <= seconds <= 600:
            raise InvalidInput(
                N_("The time on the page must be between 0 and 600 seconds."), "bad_dwell"
            )
        return VisitSettings(target_url=target_url, dwell_seconds=seconds).model_dump()

    def verdict(self, step: Step, evidence: Evidence) -> str:
        settings = self.settings(step)
        try:
            started = datetime.fromisoformat(str(evidence.data["started_at"]))
            page_url = str(evidence.data["page_url"])
        except (KeyError, ValueError):
            return "report incomplete"
        if evidence.reported_at - started < timedelta(seconds=settings.dwell_seconds):
            return f"left after less than {settings.dwell_seconds} s"
        target_host = host_of(settings.target_url)
        if target_host is None or host_of(page_url) != target_host:
            return "reported from another site"
        return ""

    def least_seconds(self, step: Step) -> int:
        return self.settings(step).dwell_seconds

    def participant_view(self, tokens: Tokens, entry: Entry, step: Step) -> dict[str, Any]:
        return {"link_token": visit_link_token(tokens, entry, step)}

    def personal_data(self, evidence: Evidence) -> dict[str, Any]:
        return {
            "page": evidence.data.get("page_url"),
            "started_at": evidence.data.get("started_at"),
        }


VISIT = Visit()


@dataclass(frozen=True)
class VisitInfo:
    contest: Contest
    step: Step
    entry: Entry
    number: int
    total: int
    done: int

    @property
    def dwell_seconds(self) -> int:
        return VISIT.settings(self.step).dwell_seconds


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
    require_accepting(contest, now)
    if step.kind != VISIT.name:
        raise InvalidInput(N_("This step is not a visit."), "not_a_visit")
    target_url = VISIT.settings(step).target_url
    require_unlocked(step, await completed_step_ids(entry))
    if not url_allowed(contest.brand, target_url):
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
    parts = urlsplit(target_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != VISIT_PARAM]
    query.append((VISIT_PARAM, visit))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def describe_visit(tokens: Tokens, visit_token: str) -> VisitInfo:
    """What the snippet's overlay shows on the brand page."""
    payload = tokens.read("visit", visit_token, VISIT_TOKEN_SECONDS)
    entry, step, contest = await _load(str(payload.get("e")), str(payload.get("s")))
    if step.kind != VISIT.name:
        raise InvalidInput(N_("This step is not a visit."), "not_a_visit")
    steps = await ids(Step.filter(contest=contest).order_by("position", "id"))
    number = steps.index(step.id) + 1
    done = await Completion.filter(entry=entry).count()
    return VisitInfo(contest, step, entry, number, len(steps), done)


async def report_visit(
    tokens: Tokens, visit_token: str, *, origin: str | None, page_url: str, now: datetime
) -> tuple[Evidence, Brand]:
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
