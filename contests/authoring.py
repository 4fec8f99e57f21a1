"""What a marketer builds: contests, their prizes and their steps."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from contests import audit
from contests.brands import url_allowed
from contests.errors import N_, Conflict, InvalidInput, NotFound
from contests.ids import public_id, slugify
from contests.models import Brand, Contest, ContestStatus, Prize, Step, StepKind

EDITABLE = (ContestStatus.DRAFT, ContestStatus.SCHEDULED, ContestStatus.LIVE)


@dataclass(frozen=True)
class ContestDraft:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "Europe/Madrid"
    alternates: int = 2


@dataclass(frozen=True)
class StepDraft:
    kind: StepKind
    title: str
    clue: str = ""
    points: int = 1
    required: bool = True
    target_url: str | None = None
    dwell_seconds: int = 5
    code: str | None = None
    unlocks_after: int | None = None


def normalise_code(code: str) -> str:
    """Codes match whatever the case and spacing the participant typed them with."""
    return re.sub(r"\s+", "", code).casefold()


def code_digest(step_public_id: str, code: str) -> str:
    return hashlib.sha256(f"{step_public_id}:{normalise_code(code)}".encode()).hexdigest()


def check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            N_("“%(zone)s” is not a time zone (for example Europe/Madrid)."),
            "invalid_timezone",
            zone=zone,
        ) from None
    if zone not in available_timezones() and zone != "UTC":
        raise InvalidInput(
            N_("“%(zone)s” is not a time zone (for example Europe/Madrid)."),
            "invalid_timezone",
            zone=zone,
        )
    return zone


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput(N_("Start and end need a time zone."), "naive_datetime")
    if ends_at <= starts_at:
        raise InvalidInput(N_("The contest must end after it starts."), "ends_before_start")


async def _unique_slug(title: str) -> str:
    base = slugify(title)
    slug = base
    while await Contest.filter(slug=slug).exists():
        slug = f"{base}-{public_id()[:5].lower()}"
    return slug


async def create_contest(
    brand: Brand, draft: ContestDraft, *, actor: str, now: datetime
) -> Contest:
    if not draft.title.strip():
        raise InvalidInput(N_("The contest needs a title."), "title_required")
    check_zone(draft.timezone)
    _check_window(draft.starts_at, draft.ends_at)
    if not 0 <= draft.alternates <= 50:
        raise InvalidInput(N_("Alternates must be between 0 and 50."), "invalid_alternates")
    contest = await Contest.create(
        brand=brand,
        slug=await _unique_slug(draft.title),
        title=draft.title.strip(),
        description=draft.description.strip(),
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        timezone=draft.timezone,
        alternates=draft.alternates,
    )
    await audit.record(
        actor=actor, action="contest.created", brand=brand, target=contest.slug, now=now
    )
    return contest


async def contest_of_brand(brand: Brand, contest_id: int) -> Contest:
    contest = await Contest.filter(id=contest_id, brand=brand).first()
    if contest is None:
        raise NotFound(N_("This contest does not exist."), "contest_not_found")
    contest.brand = brand
    return contest


def _require_editable(contest: Contest) -> None:
    if contest.status not in EDITABLE:
        raise Conflict(
            N_("The contest is closed: its prizes and steps can no longer change."),
            "contest_closed",
        )


async def extend_end(contest: Contest, ends_at: datetime, *, actor: str, now: datetime) -> None:
    """The end may move later while the contest runs, never earlier than now."""
    _require_editable(contest)
    _check_window(contest.starts_at, ends_at)
    if ends_at <= now:
        raise InvalidInput(N_("The new end must be in the future."), "end_in_past")
    if contest.status is ContestStatus.LIVE and ends_at < contest.ends_at:
        raise Conflict(
            N_("A live contest's end can only move later; use “Close now” to end it."),
            "end_earlier",
        )
    before = contest.ends_at
    contest.ends_at = ends_at
    await contest.save(update_fields=["ends_at"])
    await audit.record(
        actor=actor,
        action="contest.end_moved",
        brand=contest.brand,
        target=contest.slug,
        now=now,
        before=before.isoformat(),
        after=ends_at.isoformat(),
    )


async def edit_step_text(
    contest: Contest, step_id: int, *, title: str, clue: str, actor: str, now: datetime
) -> Step:
    """Fix a step's wording while the contest runs: nobody's completed work changes."""
    _require_editable(contest)
    step = await Step.filter(id=step_id, contest=contest).first()
    if step is None:
        raise NotFound(N_("This step is not in this contest."), "step_not_found")
    if not title.strip():
        raise InvalidInput(N_("The step needs a title."), "step_title_required")
    before = {"title": step.title, "clue": step.clue}
    step.title, step.clue = title.strip(), clue.strip()
    await step.save(update_fields=["title", "clue"])
    await audit.record(
        actor=actor,
        action="step.edited",
        brand=contest.brand,
        target=contest.slug,
        now=now,
        before=before,
        after={"title": step.title, "clue": step.clue},
    )
    return step


async def add_prize(
    contest: Contest, *, name: str, description: str, quantity: int, actor: str, now: datetime
) -> Prize:
    _require_editable(contest)
    if contest.status is not ContestStatus.DRAFT:
        raise Conflict(N_("Prizes are fixed once the contest is published."), "prizes_fixed")
    if not name.strip():
        raise InvalidInput(N_("The prize needs a name."), "prize_name_required")
    if not 1 <= quantity <= 1000:
        raise InvalidInput(N_("A prize's quantity must be between 1 and 1000."), "bad_quantity")
    position = await Prize.filter(contest=contest).count()
    prize = await Prize.create(
        contest=contest,
        name=name.strip(),
        description=description.strip(),
        quantity=quantity,
        position=position,
    )
    await audit.record(
        actor=actor,
        action="prize.added",
        brand=contest.brand,
        target=contest.slug,
        now=now,
        prize=prize.name,
        quantity=quantity,
    )
    return prize


async def add_step(contest: Contest, draft: StepDraft, *, actor: str, now: datetime) -> Step:
    """Steps can be added while the contest runs: that never voids completed work."""
    _require_editable(contest)
    if not draft.title.strip():
        raise InvalidInput(N_("The step needs a title."), "step_title_required")
    if not 0 <= draft.points <= 100:
        raise InvalidInput(N_("Points must be between 0 and 100."), "bad_points")
    step_id = public_id()
    target_url = code_hash = None
    if draft.kind is StepKind.VISIT:
        target_url = (draft.target_url or "").strip()
        if not url_allowed(contest.brand, target_url):
            raise InvalidInput(
                N_(
                    "A visit step must lead to a page of the brand's site (%(domains)s): "
                    "check the address."
                ),
                "url_not_allowed",
                domains=", ".join(contest.brand.site_domains) or "—",
            )
        if not 0 <= draft.dwell_seconds <= 600:
            raise InvalidInput(
                N_("The time on the page must be between 0 and 600 seconds."), "bad_dwell"
            )
    elif draft.kind is StepKind.CODE:
        if not draft.code or not normalise_code(draft.code):
            raise InvalidInput(N_("A code step needs the secret code."), "code_required")
        code_hash = code_digest(step_id, draft.code)
    unlocks_after = None
    if draft.unlocks_after is not None:
        unlocks_after = await Step.filter(id=draft.unlocks_after, contest=contest).first()
        if unlocks_after is None:
            raise InvalidInput(N_("The step it follows is not in this contest."), "bad_chain")
    step = await Step.create(
        contest=contest,
        public_id=step_id,
        position=await Step.filter(contest=contest).count(),
        kind=draft.kind,
        title=draft.title.strip(),
        clue=draft.clue.strip(),
        points=draft.points,
        required=draft.required,
        unlocks_after=unlocks_after,
        target_url=target_url,
        dwell_seconds=draft.dwell_seconds,
        code_hash=code_hash,
    )
    await audit.record(
        actor=actor,
        action="step.added",
        brand=contest.brand,
        target=contest.slug,
        now=now,
        step=step.title,
        kind=str(step.kind),
    )
    return step
