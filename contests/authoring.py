"""What a marketer builds: contests, their prizes and their steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit
from contests.errors import N_, Conflict, InvalidInput, NotFound
from contests.ids import public_id, slugify
from contests.lifecycle import require_editable
from contests.models import Brand, Completion, Contest, ContestStatus, Prize, Step
from contests.steps.registry import kind_named
from contests.zones import check_zone


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
    step = await _step_of(contest, step_id)
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


def _check_step_words(draft: StepDraft) -> None:
    if not draft.title.strip():
        raise InvalidInput(N_("The step needs a title."), "step_title_required")
    if not 0 <= draft.points <= 100:
        raise InvalidInput(N_("Points must be between 0 and 100."), "bad_points")


async def _step_it_follows(contest: Contest, step_id: int | None) -> Step | None:
    if step_id is None:
        return None
    follows = await Step.filter(id=step_id, contest=contest).first()
    if follows is None:
        raise InvalidInput(N_("The step it follows is not in this contest."), "bad_chain")
    return follows


async def add_step(contest: Contest, draft: StepDraft, *, actor: str, now: datetime) -> Step:
    """Steps can be added while the contest runs: that never voids completed work."""
    require_editable(contest)
    _check_step_words(draft)
    kind = kind_named(draft.kind)
    step_id = public_id()
    config = kind.configure(contest.brand, step_id, draft.settings)
    unlocks_after = await _step_it_follows(contest, draft.unlocks_after)
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


async def _step_of(contest: Contest, step_id: int) -> Step:
    step = await Step.filter(id=step_id, contest=contest).first()
    if step is None:
        raise NotFound(N_("This step is not in this contest."), "step_not_found")
    return step


async def _check_chain(contest: Contest, step: Step, follows: Step | None) -> None:
    """A step cannot be revealed after itself, nor after a step revealed after it: its
    participants could never reach either."""
    seen: set[int] = set()
    while follows is not None and follows.id not in seen:
        if follows.id == step.id:
            raise InvalidInput(
                N_("A step cannot be revealed after itself or after a step that follows it."),
                "chain_loop",
            )
        seen.add(follows.id)
        follows = await Step.filter(id=follows.unlocks_after_id, contest=contest).first()  # type: ignore[attr-defined]


async def completed_step_ids(contest: Contest) -> set[int]:
    """The contest's steps that someone has completed: one indexed lookup per step, each
    stopping at the first completion, however many entries there are."""
    step_ids: list[int] = await Step.filter(contest=contest).values_list("id", flat=True)  # type: ignore[assignment]
    return {step_id for step_id in step_ids if await Completion.filter(step_id=step_id).exists()}


async def edit_step_settings(
    contest: Contest, step_id: int, draft: StepDraft, *, actor: str, now: datetime
) -> Step:
    """Change everything about a step (its kind excepted). In a draft anything goes. Once
    published, a step nobody has completed may change but not become required (that would
    change who is eligible); a completed step keeps its settings, points and
    requirement, since completed work was judged by them."""
    require_editable(contest)
    step = await _step_of(contest, step_id)
    _check_step_words(draft)
    kind = kind_named(step.kind)
    config = kind.reconfigure(contest.brand, step, draft.settings)
    follows = await _step_it_follows(contest, draft.unlocks_after)
    await _check_chain(contest, step, follows)
    before = _step_state(step)
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        if locked.status is not ContestStatus.DRAFT:
            if draft.required and not step.required:
                raise Conflict(
                    N_(
                        "The contest is published: a step can no longer become required, "
                        "as that would change who is in the draw."
                    ),
                    "step_required_live",
                )
            if await Completion.filter(step=step).exists():
                raise Conflict(
                    N_(
                        "Someone has already completed “%(step)s”: its settings, points "
                        "and requirement can no longer change, only its wording."
                    ),
                    "step_completed",
                    step=step.title,
                )
        step.title, step.clue = draft.title.strip(), draft.clue.strip()
        step.points, step.required, step.config = draft.points, draft.required, config
        step.unlocks_after_id = follows.id if follows else None
        await step.save(
            update_fields=["title", "clue", "points", "required", "config", "unlocks_after_id"]
        )
        await audit.record(
            actor=actor,
            action="step.changed",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            before=before,
            after=_step_state(step),
        )
    return step


def _step_state(step: Step) -> dict[str, object]:
    """What the audit log keeps of a step's change; its settings stay out, as they may
    hold a secret (a QR step's key, a code's hash)."""
    return {
        "title": step.title,
        "points": step.points,
        "required": step.required,
        "unlocks_after": step.unlocks_after_id,  # type: ignore[attr-defined]
    }


def _require_draft(contest: Contest, message: str, code: str) -> None:
    require_editable(contest)
    if contest.status is not ContestStatus.DRAFT:
        raise Conflict(message, code)


_DELETE_LIVE = N_("The contest is published: its steps can no longer be deleted.")
_MOVE_LIVE = N_("The contest is published: its steps can no longer be reordered.")


async def delete_step(contest: Contest, step_id: int, *, actor: str, now: datetime) -> None:
    """Delete a step of a draft; the others close the gap in the order."""
    _require_draft(contest, _DELETE_LIVE, "step_delete_live")
    step = await _step_of(contest, step_id)
    follower = await Step.filter(contest=contest, unlocks_after=step).order_by("position").first()
    if follower is not None:
        raise Conflict(
            N_("“%(follower)s” is revealed after “%(step)s”: change that first, then delete it."),
            "step_has_followers",
            follower=follower.title,
            step=step.title,
        )
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        _require_draft(locked, _DELETE_LIVE, "step_delete_live")
        await Step.filter(id=step.id).delete()
        await _renumber(contest, [s.id for s in await _ordered(contest)])
        await audit.record(
            actor=actor,
            action="step.deleted",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            step=step.title,
        )


async def _ordered(contest: Contest) -> list[Step]:
    return await Step.filter(contest=contest).order_by("position", "id")


async def _renumber(contest: Contest, order: list[int]) -> None:
    for position, step_id in enumerate(order):
        await (
            Step.filter(id=step_id, contest=contest)
            .exclude(position=position)
            .update(position=position)
        )


async def move_step(contest: Contest, step_id: int, *, up: bool, actor: str, now: datetime) -> None:
    """Move a draft's step one place up or down. The contest row is locked and every
    position rewritten from the order read under the lock, so two clicks at once move
    it twice rather than leaving two steps on one position."""
    _require_draft(contest, _MOVE_LIVE, "step_move_live")
    step = await _step_of(contest, step_id)
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        _require_draft(locked, _MOVE_LIVE, "step_move_live")
        order = [s.id for s in await _ordered(contest)]
        if step.id not in order:
            raise NotFound(N_("This step is not in this contest."), "step_not_found")
        at = order.index(step.id)
        to = at - 1 if up else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
        await _renumber(contest, order)
        await audit.record(
            actor=actor,
            action="step.moved",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            step=step.title,
            position=order.index(step.id) + 1,
        )


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
