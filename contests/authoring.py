"""What a marketer builds: contests, their prizes and their steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tortoise.transactions import in_transaction

from contests import audit
from contests.errors import N_, Conflict, InvalidInput, NotFound
from contests.ids import public_id, slugify
from contests.lifecycle import require_editable
from contests.models import Brand, Contest, ContestStatus, Prize, Step
from contests.steps.registry import kind_named


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
    """A step as the marketer describes it; ``settings`` is what the kind's own fields
    hold (a visit's page, a code), validated by the kind."""

    kind: str
    title: str
    clue: str = ""
    points: int = 1
    required: bool = True
    unlocks_after: int | None = None
    settings: Mapping[str, object] = field(default_factory=dict)


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
    async with in_transaction():
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


async def extend_end(contest: Contest, ends_at: datetime, *, actor: str, now: datetime) -> None:
    """The end may move later while the contest runs, never earlier than now."""
    require_editable(contest)
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
    async with in_transaction():
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
    require_editable(contest)
    step = await Step.filter(id=step_id, contest=contest).first()
    if step is None:
        raise NotFound(N_("This step is not in this contest."), "step_not_found")
    if not title.strip():
        raise InvalidInput(N_("The step needs a title."), "step_title_required")
    before = {"title": step.title, "clue": step.clue}
    step.title, step.clue = title.strip(), clue.strip()
    async with in_transaction():
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
    require_editable(contest)
    if contest.status is not ContestStatus.DRAFT:
        raise Conflict(N_("Prizes are fixed once the contest is published."), "prizes_fixed")
    if not name.strip():
        raise InvalidInput(N_("The prize needs a name."), "prize_name_required")
    if not 1 <= quantity <= 1000:
        raise InvalidInput(N_("A prize's quantity must be between 1 and 1000."), "bad_quantity")
    async with in_transaction():
        prize = await Prize.create(
            contest=contest,
            name=name.strip(),
            description=description.strip(),
            quantity=quantity,
            position=await Prize.filter(contest=contest).count(),
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
    require_editable(contest)
    if not draft.title.strip():
        raise InvalidInput(N_("The step needs a title."), "step_title_required")
    if not 0 <= draft.points <= 100:
        raise InvalidInput(N_("Points must be between 0 and 100."), "bad_points")
    kind = kind_named(draft.kind)
    step_id = public_id()
    config = kind.configure(contest.brand, step_id, draft.settings)
    unlocks_after = None
    if draft.unlocks_after is not None:
        unlocks_after = await Step.filter(id=draft.unlocks_after, contest=contest).first()
        if unlocks_after is None:
            raise InvalidInput(N_("The step it follows is not in this contest."), "bad_chain")
    async with in_transaction():
        step = await Step.create(
            contest=contest,
            public_id=step_id,
            position=await Step.filter(contest=contest).count(),
            kind=kind.name,
            title=draft.title.strip(),
            clue=draft.clue.strip(),
            points=draft.points,
            required=draft.required,
            unlocks_after=unlocks_after,
            config=config,
        )
        await audit.record(
            actor=actor,
            action="step.added",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            step=step.title,
            kind=kind.name,
        )
    return step


async def show_referral_leaderboard(
    contest: Contest, shown: bool, *, actor: str, now: datetime
) -> None:
    """Whether the contest page lists the top referrers by display name; it only shows
    what exists, so it may change at any time before the contest closes."""
    require_editable(contest)
    if contest.referral_leaderboard is shown:
        return
    contest.referral_leaderboard = shown
    async with in_transaction():
        await contest.save(update_fields=["referral_leaderboard"])
        await audit.record(
            actor=actor,
            action="contest.referral_leaderboard",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            shown=shown,
        )
