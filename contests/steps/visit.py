"""Visit steps: a signed link to a page of the brand's site, where the snippet reports
the visit once the participant has stayed long enough; a worker verifies the report.

The link (``visit-link`` token) is per entry and step; following it gives the brand page
a ``visit`` token, good for one report (its nonce is unique in the evidence table).

The page reported must be the step's page, or with ``pages="section"`` any page under
its path (``contests.urls.same_page`` says how addresses are compared). A brand that
cannot install the snippet sets ``proof="click"``: following the link is then the
evidence, weaker and labelled so in the console, and worth the same to the participant.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, Field

from contests.brands import url_allowed
from contests.consent import require_current_consent
from contests.entries import completed_step_ids, require_unlocked
from contests.errors import N_, InvalidInput, NotAllowed, NotFound
from contests.lifecycle import require_accepting
from contests.models import Brand, Contest, Entry, Evidence, Step
from contests.steps.kind import CompletedBy, StepKind
from contests.tokens import Tokens
from contests.urls import same_page

VISIT_PARAM = "gk"
# A visit token travels in the brand page's address; it is good for one report.
VISIT_TOKEN_SECONDS = 2 * 60 * 60


class VisitSettings(BaseModel):
    target_url: str = Field(min_length=1, max_length=500)
    dwell_seconds: int = Field(default=5, ge=0, le=600)
    # Which pages count: the step's page only, or any page under its path.
    pages: Literal["page", "section"] = "page"
    # What proves the visit: the snippet on the page, or the click on the link alone.
    proof: Literal["snippet", "click"] = "snippet"

    @property
    def counts_click(self) -> bool:
        return self.proof == "click"

    def shows(self, page_url: str) -> bool:
        """True when the page is one where this step's visit counts."""
        return same_page(
            self.target_url, page_url, section=self.pages == "section", ignore=VISIT_PARAM
        )


def _choice(raw: Mapping[str, object], name: str, choices: tuple[str, ...]) -> str:
    value = str(raw.get(name) or choices[0]).strip()
    if value not in choices:
        raise InvalidInput(
            N_("Check the step's setting “%(field)s”: it is missing or not valid."),
            "bad_step_setting",
            field=name,
        )
    return value


class Visit(StepKind[VisitSettings]):
    name = "visit"
    noun = N_("visit")
    label = N_("Visit a page of your site")
    completed_by = CompletedBy.EVIDENCE
    settings_model = VisitSettings
    form_fields: ClassVar[Mapping[str, int]] = {
        "target_url": 500,
        "dwell_seconds": 12,
        "pages": 16,
        "proof": 16,
    }

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
        pages = _choice(raw, "pages", ("page", "section"))
        proof = _choice(raw, "proof", ("snippet", "click"))
        settings = {
            "target_url": target_url,
            # Without the snippet nothing measures the time on the page: none is asked.
            "dwell_seconds": 0 if proof == "click" else seconds,
            "pages": pages,
            "proof": proof,
        }
        return VisitSettings.model_validate(settings).model_dump()

    def verdict(self, step: Step, evidence: Evidence) -> str:
        settings = self.settings(step)
        if evidence.data.get("proof") == "click":
            return "" if settings.counts_click else "a click alone does not prove this step"
        try:
            started = datetime.fromisoformat(str(evidence.data["started_at"]))
            page_url = str(evidence.data["page_url"])
        except (KeyError, ValueError):
            return "report incomplete"
        if evidence.reported_at - started < timedelta(seconds=settings.dwell_seconds):
            return f"left after less than {settings.dwell_seconds} s"
        if not settings.shows(page_url):
            return "reported from another page"
        return ""

    def least_seconds(self, step: Step) -> int:
        return self.settings(step).dwell_seconds

    def participant_view(self, tokens: Tokens, entry: Entry, step: Step) -> dict[str, Any]:
        return {
            "link_token": visit_link_token(tokens, entry, step),
            "counts_click": self.settings(step).counts_click,
        }

    def personal_data(self, evidence: Evidence) -> dict[str, Any]:
        return {
            "page": evidence.data.get("page_url"),
            "started_at": evidence.data.get("started_at"),
            "proof": evidence.data.get("proof", "snippet"),
        }


VISIT = Visit()


@dataclass(frozen=True)
class VisitStart:
    """Where a step link leads, and whether following it is itself the evidence."""

    contest: Contest
    step: Step
    target: str  # the brand page, carrying a visit token
    counts_click: bool
    # The click kept for a worker (only when following the link with ``follow``).
    evidence: Evidence | None = None


def visit_link_token(tokens: Tokens, entry: Entry, step: Step) -> str:
    """The per-entry token behind a step's “Go” link on the contest page."""
    return tokens.sign("visit-link", {"e": entry.public_id, "s": step.public_id})


async def visit_of(payload: Mapping[str, Any]) -> tuple[Entry, Step]:
    """The entry and the visit step a signed token's payload names."""
    entry = await Entry.filter(public_id=str(payload.get("e"))).first()
    step = await Step.filter(public_id=str(payload.get("s"))).first()
    if entry is None or step is None or entry.contest_id != step.contest_id:  # type: ignore[attr-defined]
        raise NotFound(N_("This step no longer exists."), "step_not_found")
    if step.kind != VISIT.name:
        raise InvalidInput(N_("This step is not a visit."), "not_a_visit")
    return entry, step


async def contest_of(step: Step) -> Contest:
    """The step's contest, with its brand."""
    return await Contest.filter(id=step.contest_id).select_related("brand").get()  # type: ignore[attr-defined]


async def start_visit(
    tokens: Tokens, link_token: str, *, max_age: int, now: datetime, follow: bool = False
) -> VisitStart:
    """Check a step link and say where it leads. With ``follow`` (a POST: a GET never
    changes anything) the click on a step that counts clicks is kept as evidence for a
    worker, once per entry and step."""
    payload = tokens.read("visit-link", link_token, max_age)
    entry, step = await visit_of(payload)
    contest = await contest_of(step)
    require_accepting(contest, now)
    require_current_consent(contest, entry)
    settings = VISIT.settings(step)
    done = await completed_step_ids(entry)
    require_unlocked(step, done)
    if not url_allowed(contest.brand, settings.target_url):
        raise NotAllowed(
            N_("This step's page is no longer on the brand's site."), "url_not_allowed"
        )
    nonce = secrets.token_hex(8)
    visit = tokens.sign(
        "visit", {"e": entry.public_id, "s": step.public_id, "t": now.timestamp(), "n": nonce}
    )
    parts = urlsplit(settings.target_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != VISIT_PARAM]
    query.append((VISIT_PARAM, visit))
    target = urlunsplit(parts._replace(query=urlencode(query)))
    evidence = None
    if follow and settings.counts_click and step.id not in done:
        evidence = await _keep_click(entry, step, nonce, settings.target_url, now)
    return VisitStart(contest, step, target, settings.counts_click, evidence)


async def _keep_click(
    entry: Entry, step: Step, nonce: str, page_url: str, now: datetime
) -> Evidence:
    """The click as evidence. A second click before the worker's verdict is judged too,
    and counts once: completions are recorded once per entry and step."""
    return await Evidence.create(
        nonce=nonce,
        entry=entry,
        step=step,
        reported_at=now,
        data={"proof": "click", "started_at": now.isoformat(), "page_url": page_url},
    )
