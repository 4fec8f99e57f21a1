"""What a marketer builds: contests, their prizes and their steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit, beacon
from contests.content import (
    CONTEST_FIELDS,
    PRIZE_FIELDS,
    STEP_FIELDS,
    Texts,
    check_language,
    cleaned,
    texts_of,
)
from contests.eligibility import check_countries, check_min_age
from contests.errors import N_, Conflict, InvalidInput, NotFound
from contests.ids import public_id, slugify
from contests.lifecycle import EDITABLE, require_editable
from contests.models import Brand, Completion, Contest, ContestStatus, Prize, RulesVersion, Step
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
    # The language ``title`` and ``description`` are written in; ``texts`` holds the
    # other languages' ({"en": {"title": ..., "description": ...}}).
    language: str = "es"
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    min_age: int = 0
    countries: tuple[str, ...] = ()


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
    # The step's words in the contest's other languages: title, clue, question.
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


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


def _check_contest(draft: ContestDraft) -> None:
    if not draft.title.strip():
        raise InvalidInput(N_("The contest needs a title."), "title_required")
    check_language(draft.language)
    check_zone(draft.timezone)
    _check_window(draft.starts_at, draft.ends_at)
    if not 0 <= draft.alternates <= 50:
        raise InvalidInput(N_("Alternates must be between 0 and 50."), "invalid_alternates")
    check_min_age(draft.min_age)
    check_countries(draft.countries)


def _contest_texts(draft: ContestDraft) -> Texts:
    main = {"title": draft.title, "description": draft.description}
    return cleaned({**draft.texts, draft.language: main}, CONTEST_FIELDS)


async def create_contest(
    brand: Brand, draft: ContestDraft, *, actor: str, now: datetime
) -> Contest:
    _check_contest(draft)
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
            language=draft.language,
            texts=_contest_texts(draft),
            min_age=draft.min_age,
            countries=sorted(set(draft.countries)),
        )
        await changed(contest, "contest.created", actor=actor, now=now, brand=brand)
    return contest


async def changed(
    contest: Contest,
    action: str,
    *,
    actor: str,
    now: datetime,
    brand: Brand | None = None,
    **details: object,
) -> None:
    """Every change to a contest ends here, inside its transaction: the audit log's
    line, and the one place for anything else that must follow any change."""
    await audit.record(
        actor=actor,
        action=action,
        brand=brand or contest.brand,
        target=contest.slug,
        now=now,
        **details,
    )


# What may change once a contest is published: never what decided who could enter,
# nor what the draw was committed to.
_FIXED_ONCE_PUBLISHED = (
    ("starts_at", N_("the start")),
    ("timezone", N_("the time zone")),
    ("alternates", N_("the number of alternates")),
    ("language", N_("the main language")),
    ("min_age", N_("the minimum age")),
    ("countries", N_("the countries")),
)


async def edit_contest(
    contest: Contest, draft: ContestDraft, *, actor: str, now: datetime
) -> Contest:
    """Change a contest: anything in a draft; once published, its words in every
    language and its end (as ``move_end`` allows), nothing that would change who may
    take part."""
    _require_open(contest)
    _check_contest(draft)
    proposed = {
        "starts_at": draft.starts_at,
        "timezone": draft.timezone,
        "alternates": draft.alternates,
        "language": draft.language,
        "min_age": draft.min_age,
        "countries": sorted(set(draft.countries)),
    }
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        _require_open(locked)
        if locked.status is not ContestStatus.DRAFT:
            for name, label in _FIXED_ONCE_PUBLISHED:
                if proposed[name] != getattr(locked, name):
                    raise Conflict(
                        N_("The contest is published: %(what)s can no longer change."),
                        "fixed_once_published",
                        what=label,
                    )
        await _move_end(
            locked,
            draft.ends_at,
            starts_at=draft.starts_at,
            brand=contest.brand,
            actor=actor,
            now=now,
        )
        if draft.language != locked.language:
            await _switch_language(contest, locked.language, draft.language)
        before = {"title": locked.title}
        contest.title, contest.description = draft.title.strip(), draft.description.strip()
        contest.texts = _contest_texts(draft)
        contest.ends_at, contest.beacon = locked.ends_at, locked.beacon
        for name, value in proposed.items():
            setattr(contest, name, value)
        await contest.save(update_fields=["title", "description", "texts", *proposed])
        await changed(
            contest,
            "contest.edited",
            actor=actor,
            now=now,
            before=before,
            after={"title": contest.title},
        )
    return contest


async def _switch_language(contest: Contest, old: str, new: str) -> None:
    """The prizes' and steps' columns take the new main language's texts; the old
    language's stay among the translations. A contest has a handful of each."""
    for prize in await Prize.filter(contest=contest):
        texts = texts_of(prize, old)
        prize.name = texts[new].get("name") or prize.name
        prize.description = texts[new].get("description", "")
        prize.texts = texts
        await prize.save(update_fields=["name", "description", "texts"])
    for step in await Step.filter(contest=contest):
        texts = texts_of(step, old)
        step.title = texts[new].get("title") or step.title
        step.clue = texts[new].get("clue", "")
        if "question" in step.config:
            question = texts[new].get("question") or step.config["question"]
            step.config = {**step.config, "question": question}
        step.texts = texts
        await step.save(update_fields=["title", "clue", "config", "texts"])


async def contest_of_brand(brand: Brand, contest_id: int) -> Contest:
    contest = await Contest.filter(id=contest_id, brand=brand).first()
    if contest is None:
        raise NotFound(N_("This contest does not exist."), "contest_not_found")
    contest.brand = brand
    return contest


def _require_open(contest: Contest) -> None:
    """A closed contest's list was frozen, and its draw's round named, by its end."""
    if contest.status not in EDITABLE:
        raise Conflict(
            N_("The contest is closed: its end and its settings can no longer change."),
            "contest_closed",
        )


async def move_end(contest: Contest, ends_at: datetime, *, actor: str, now: datetime) -> bool:
    """Move the contest's end, under ``_move_end``'s rules; whether it moved (False: it
    was already there)."""
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        moved = await _move_end(
            locked, ends_at, starts_at=locked.starts_at, brand=contest.brand, actor=actor, now=now
        )
    contest.ends_at, contest.beacon = locked.ends_at, locked.beacon
    return moved


def _check_end_move(
    contest: Contest, ends_at: datetime, starts_at: datetime, now: datetime
) -> None:
    """What a new end must respect. A draft may end at any time in the future. Once
    published, participants may have read the end and taken part by it: the end moves
    later, and earlier only while the contest has not started (nobody has taken part
    yet). Never into the past: a started contest's sooner end, past or not, is refused
    with the way to end it now."""
    _check_window(starts_at, ends_at)
    started = contest.status is ContestStatus.LIVE or (
        contest.status is ContestStatus.SCHEDULED and contest.starts_at <= now
    )
    if started and ends_at < contest.ends_at:
        raise Conflict(
            N_(
                "Once the contest has started its end can only move later; "
                "to end it now, use “Close now and draw”."
            ),
            "end_earlier",
        )
    if ends_at <= now:
        raise InvalidInput(N_("The new end must be in the future."), "end_in_past")


async def _move_end(
    locked: Contest,
    ends_at: datetime,
    *,
    starts_at: datetime,
    brand: Brand,
    actor: str,
    now: datetime,
) -> bool:
    """The one step that moves a contest's end, from the contest form and from "Move the
    end" alike; inside the caller's transaction, on the row it locked. ``starts_at`` is
    the start the contest will have (a draft's may change in the same form)."""
    _require_open(locked)
    if ends_at == locked.ends_at:
        return False
    _check_end_move(locked, ends_at, starts_at, now)
    before = locked.ends_at
    locked.ends_at = ends_at
    # The round named at publication follows the end, with the same network and margin:
    # it must still be published after the list is frozen. Both rounds are still in the
    # future (the end moves only to the future), so nobody knows either.
    before_round = locked.beacon["round"] if locked.beacon else None
    if locked.beacon is not None:
        locked.beacon = beacon.renamed_round(locked.beacon, ends_at)
    await locked.save(update_fields=["ends_at", "beacon"])
    await changed(
        locked,
        "contest.end_moved",
        actor=actor,
        now=now,
        brand=brand,
        before=before.isoformat(),
        after=ends_at.isoformat(),
        **(
            {"beacon_round_before": before_round, "beacon_round": locked.beacon["round"]}
            if locked.beacon
            else {}
        ),
    )
    return True


def _step_texts(
    main: str,
    title: str,
    clue: str,
    config: Mapping[str, object],
    texts: Mapping[str, Mapping[str, str]],
) -> Texts:
    words = {"title": title, "clue": clue}
    if "question" in config:
        words["question"] = str(config["question"])
    return cleaned({**texts, main: words}, STEP_FIELDS)


async def edit_step_text(
    contest: Contest,
    step_id: int,
    *,
    title: str,
    clue: str,
    actor: str,
    now: datetime,
    texts: Mapping[str, Mapping[str, str]] | None = None,
) -> Step:
    """Fix a step's wording while the contest runs: nobody's completed work changes.
    ``texts`` (the other languages' words) is kept as it was when not given."""
    require_editable(contest)
    step = await _step_of(contest, step_id)
    if not title.strip():
        raise InvalidInput(N_("The step needs a title."), "step_title_required")
    before = {"title": step.title, "clue": step.clue}
    step.title, step.clue = title.strip(), clue.strip()
    others = texts if texts is not None else step.texts
    step.texts = _step_texts(contest.language, step.title, step.clue, step.config, others)
    async with in_transaction():
        await step.save(update_fields=["title", "clue", "texts"])
        await changed(
            contest,
            "step.edited",
            actor=actor,
            now=now,
            before=before,
            after={"title": step.title, "clue": step.clue},
        )
    return step


def _prize_texts(
    main: str, name: str, description: str, texts: Mapping[str, Mapping[str, str]]
) -> Texts:
    return cleaned({**texts, main: {"name": name, "description": description}}, PRIZE_FIELDS)


def _check_prize(name: str, quantity: int) -> None:
    if not name.strip():
        raise InvalidInput(N_("The prize needs a name."), "prize_name_required")
    if not 1 <= quantity <= 1000:
        raise InvalidInput(N_("A prize's quantity must be between 1 and 1000."), "bad_quantity")


async def add_prize(
    contest: Contest,
    *,
    name: str,
    description: str,
    quantity: int,
    actor: str,
    now: datetime,
    texts: Mapping[str, Mapping[str, str]] | None = None,
) -> Prize:
    """``name`` and ``description`` in the contest's language, ``texts`` in the others."""
    require_editable(contest)
    if contest.status is not ContestStatus.DRAFT:
        raise Conflict(N_("Prizes are fixed once the contest is published."), "prizes_fixed")
    _check_prize(name, quantity)
    async with in_transaction():
        prize = await Prize.create(
            contest=contest,
            name=name.strip(),
            description=description.strip(),
            quantity=quantity,
            position=await Prize.filter(contest=contest).count(),
            texts=_prize_texts(contest.language, name, description, texts or {}),
        )
        await changed(
            contest,
            "prize.added",
            actor=actor,
            now=now,
            prize=prize.name,
            quantity=quantity,
        )
    return prize


async def _prize_of(contest: Contest, prize_id: int) -> Prize:
    prize = await Prize.filter(id=prize_id, contest=contest).first()
    if prize is None:
        raise NotFound(N_("This prize is not in this contest."), "prize_not_found")
    return prize


async def edit_prize(
    contest: Contest,
    prize_id: int,
    *,
    name: str,
    description: str,
    quantity: int,
    texts: Mapping[str, Mapping[str, str]],
    actor: str,
    now: datetime,
) -> Prize:
    """A prize's words may change at any time before the close; its quantity only in a
    draft, since the draw was committed to the prizes as published."""
    require_editable(contest)
    prize = await _prize_of(contest, prize_id)
    _check_prize(name, quantity)
    if quantity != prize.quantity and contest.status is not ContestStatus.DRAFT:
        raise Conflict(
            N_("The contest is published: a prize's quantity can no longer change."),
            "prize_quantity_fixed",
        )
    before = {"name": prize.name, "quantity": prize.quantity}
    prize.name, prize.description, prize.quantity = name.strip(), description.strip(), quantity
    prize.texts = _prize_texts(contest.language, name, description, texts)
    async with in_transaction():
        await prize.save(update_fields=["name", "description", "quantity", "texts"])
        await changed(
            contest,
            "prize.edited",
            actor=actor,
            now=now,
            before=before,
            after={"name": prize.name, "quantity": prize.quantity},
        )
    return prize


_PRIZE_DELETE_LIVE = N_("The contest is published: its prizes can no longer be deleted.")
_PRIZE_MOVE_LIVE = N_("The contest is published: its prizes can no longer be reordered.")


async def delete_prize(contest: Contest, prize_id: int, *, actor: str, now: datetime) -> None:
    _require_draft(contest, _PRIZE_DELETE_LIVE, "prize_delete_live")
    prize = await _prize_of(contest, prize_id)
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        _require_draft(locked, _PRIZE_DELETE_LIVE, "prize_delete_live")
        await Prize.filter(id=prize.id).delete()
        order = await Prize.filter(contest=contest).order_by("position", "id")
        await _renumber_prizes(contest, [p.id for p in order])
        await changed(contest, "prize.deleted", actor=actor, now=now, prize=prize.name)


async def _renumber_prizes(contest: Contest, order: list[int]) -> None:
    for position, prize_id in enumerate(order):
        await (
            Prize.filter(id=prize_id, contest=contest)
            .exclude(position=position)
            .update(position=position)
        )


async def move_prize(
    contest: Contest, prize_id: int, *, up: bool, actor: str, now: datetime
) -> None:
    """Move a draft's prize one place: the first prizes go to the first drawn."""
    _require_draft(contest, _PRIZE_MOVE_LIVE, "prize_move_live")
    prize = await _prize_of(contest, prize_id)
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        _require_draft(locked, _PRIZE_MOVE_LIVE, "prize_move_live")
        order = [p.id for p in await Prize.filter(contest=contest).order_by("position", "id")]
        at = order.index(prize.id)
        to = at - 1 if up else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
        await _renumber_prizes(contest, order)
        await changed(
            contest,
            "prize.moved",
            actor=actor,
            now=now,
            prize=prize.name,
            position=order.index(prize.id) + 1,
        )


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


async def add_step(
    contest: Contest,
    draft: StepDraft,
    *,
    actor: str,
    now: datetime,
    required_confirmed: bool = True,
) -> Step:
    """Steps can be added while the contest runs: that never voids completed work. A
    required one changes who is in the draw, though: the console asks the marketer to
    confirm it (``required_confirmed``); other callers have decided already."""
    require_editable(contest)
    _check_step_words(draft)
    if draft.required and not required_confirmed and contest.status is not ContestStatus.DRAFT:
        raise Conflict(
            N_(
                "The contest is published: a new required step takes out of the draw "
                "everyone who has not done it yet. Tick the confirmation to add it anyway, "
                "or make it optional."
            ),
            "required_step_unconfirmed",
        )
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
            texts=_step_texts(contest.language, draft.title, draft.clue, config, draft.texts),
        )
        await changed(
            contest,
            "step.added",
            actor=actor,
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
        step.texts = _step_texts(contest.language, step.title, step.clue, config, draft.texts)
        await step.save(
            update_fields=[
                "title",
                "clue",
                "points",
                "required",
                "config",
                "unlocks_after_id",
                "texts",
            ]
        )
        await changed(
            contest,
            "step.changed",
            actor=actor,
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
        await changed(
            contest,
            "step.deleted",
            actor=actor,
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
        await changed(
            contest,
            "step.moved",
            actor=actor,
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
        await changed(
            contest,
            "contest.referral_leaderboard",
            actor=actor,
            now=now,
            shown=shown,
        )


async def duplicate_contest(contest: Contest, *, actor: str, now: datetime) -> Contest:
    """A draft copy of a contest: its words in every language, dates, eligibility,
    prizes, steps and their chain, and its latest rules. Entries stay behind, and each
    step gets a new public id (and the kinds their own fresh secrets, through
    ``copy_settings``), so no link or code of the original works on the copy."""
    prizes = await Prize.filter(contest=contest).order_by("position", "id")
    steps = await Step.filter(contest=contest).order_by("position", "id")
    latest = await RulesVersion.filter(contest=contest).order_by("-version").first()
    async with in_transaction():
        copy = await Contest.create(
            brand=contest.brand,
            slug=await _unique_slug(contest.title),
            title=contest.title,
            description=contest.description,
            starts_at=contest.starts_at,
            ends_at=contest.ends_at,
            timezone=contest.timezone,
            alternates=contest.alternates,
            language=contest.language,
            texts=contest.texts,
            min_age=contest.min_age,
            countries=contest.countries,
            referral_leaderboard=contest.referral_leaderboard,
        )
        for prize in prizes:
            await Prize.create(
                contest=copy,
                name=prize.name,
                description=prize.description,
                quantity=prize.quantity,
                position=prize.position,
                texts=prize.texts,
            )
        copies: dict[int, Step] = {}
        for step in steps:
            copies[step.id] = await Step.create(
                contest=copy,
                public_id=public_id(),
                position=step.position,
                kind=step.kind,
                title=step.title,
                clue=step.clue,
                points=step.points,
                required=step.required,
                config=kind_named(step.kind).copy_settings(step),
                texts=step.texts,
            )
        for step in steps:
            follows = step.unlocks_after_id  # type: ignore[attr-defined]
            if follows in copies:
                await Step.filter(id=copies[step.id].id).update(unlocks_after_id=copies[follows].id)
        if latest is not None:
            await RulesVersion.create(
                contest=copy, version=1, texts=latest.texts, created_at=now, created_by=actor
            )
        await changed(copy, "contest.duplicated", actor=actor, now=now, original=contest.slug)
    return copy
