"""Whether a draft is ready to publish, with everything it still lacks listed at once,
publishing it with its rules, and the organiser's choice, before that, of a draw
without a public beacon."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit, beacon, lifecycle, rules
from contests.errors import N_, Conflict
from contests.models import Contest, ContestStatus, Prize, Step


@dataclass(frozen=True)
class Problem:
    """Something that stops publication: a message id and its parameters."""

    message: str
    params: dict[str, object] = field(default_factory=dict)


async def problems(contest: Contest, now: datetime) -> list[Problem]:
    """Everything that stops the draft from being published, in the order to fix it."""
    found = []
    if contest.status is not ContestStatus.DRAFT:
        return [Problem(N_("This contest is already published."))]
    if not await Prize.filter(contest=contest).exists():
        found.append(Problem(N_("Add at least one prize.")))
    steps = await Step.filter(contest=contest).order_by("position", "id")
    if not steps:
        found.append(Problem(N_("Add at least one step.")))
    if contest.ends_at <= now:
        found.append(Problem(N_("The end time has already passed: move it later.")))
    # A step revealed after an optional one may never be reached: it must not be required.
    by_id = {step.id: step for step in steps}
    for step in steps:
        follows = by_id.get(step.unlocks_after_id)  # type: ignore[attr-defined]
        if step.required and follows is not None and not follows.required:
            found.append(
                Problem(
                    N_("“%(step)s” is required but revealed after the optional “%(after)s”."),
                    {"step": step.title, "after": follows.title},
                )
            )
    return found


async def publish(
    contest: Contest,
    *,
    actor: str,
    now: datetime,
    network: beacon.Network | None = lifecycle.DEFAULT_NETWORK,
    margin_seconds: int = lifecycle.DEFAULT_MARGIN_SECONDS,
) -> None:
    """Publish a ready draft; a contest whose marketer wrote no rules gets the template's,
    so every consent names a version that exists. ``network`` and ``margin_seconds``
    name the beacon round, as in ``lifecycle.publish``; a contest whose organiser chose
    to draw without a beacon names none, whatever ``network`` says."""
    if await problems(contest, now):
        raise Conflict(
            N_("The contest is not ready to publish yet: see what is missing."), "not_ready"
        )
    # Read again: the choice may have changed since this contest was loaded.
    if await Contest.filter(id=contest.id, draw_without_beacon=True).exists():
        network = None
    await rules.ensure(contest, actor=actor, now=now)
    await lifecycle.publish(
        contest, actor=actor, now=now, network=network, margin_seconds=margin_seconds
    )


async def choose_beacon(contest: Contest, *, without: bool, actor: str, now: datetime) -> None:
    """Whether the draft will be drawn without a public beacon. Without one, the result
    rests on the seed the organiser commits to, so they could steer it: the choice is
    off unless made here, only before publishing, and the audit log keeps who made it."""
    if contest.draw_without_beacon is without:
        return
    async with in_transaction():
        # Conditional on the draft, so that a contest published meanwhile keeps the
        # randomness it committed to.
        chosen = await Contest.filter(id=contest.id, status=ContestStatus.DRAFT).update(
            draw_without_beacon=without
        )
        if not chosen:
            raise Conflict(
                N_("The contest is published: how its draw is made can no longer change."),
                "already_published",
            )
        await audit.record(
            actor=actor,
            action="contest.draw_randomness",
            brand=contest.brand,
            target=contest.slug,
            now=now,
            without_beacon=without,
        )
    contest.draw_without_beacon = without
