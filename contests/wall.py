"""The community wall: opinion answers the brand shows on the contest page, under the
participant's display name and with the brand's reply, so that everyone sees the brand
listens.

An answer goes on the wall only when its participant consented to publishing it (a
separate choice, never ticked for them) and the brand chose it; withdrawing the consent
takes it off at once, and deleting the account deletes it.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from contests import audit
from contests.errors import N_, Conflict, NotFound
from contests.models import Answer, Contest, Entry, Marketer, Step

# The contest page shows the latest few the brand chose.
WALL_SIZE = 20


async def consent(entry: Entry, step: Step, given: bool, *, now: datetime) -> Answer:
    """The participant lets the brand publish their answer, or no longer does (which
    takes it off the wall)."""
    answer = await Answer.filter(entry=entry, step=step).exclude(text="").first()
    if answer is None or step.kind != "opinion":
        raise NotFound(N_("Answer the question first."), "no_answer")
    if given:
        if answer.publish_consent_at is None:
            answer.publish_consent_at = now
    else:
        answer.publish_consent_at = answer.on_wall_at = None
    await answer.save(update_fields=["publish_consent_at", "on_wall_at"])
    return answer


async def show(
    role: Marketer, contest: Contest, answer_id: int, shown: bool, *, now: datetime
) -> Answer:
    """The brand puts an answer on the contest's wall, or takes it off. Audited."""
    answer = (
        await Answer.filter(id=answer_id, step__contest_id=contest.id, step__kind="opinion")
        .exclude(text="")
        .first()
    )
    if answer is None:
        raise NotFound(N_("This answer does not exist."), "answer_not_found")
    if shown and answer.publish_consent_at is None:
        raise Conflict(
            N_(
                "This participant has not agreed to have their answer published: "
                "it cannot go on the wall."
            ),
            "no_publish_consent",
        )
    answer.on_wall_at = now if shown else None
    async with in_transaction():
        await answer.save(update_fields=["on_wall_at"])
        await audit.record(
            actor=role.email,
            action="answer.shown" if shown else "answer.hidden",
            brand=role.brand,
            target=contest.slug,
            now=now,
            answer=answer.id,
        )
    return answer


async def wall_of(contest: Contest, limit: int = WALL_SIZE) -> list[Answer]:
    """The answers on the contest's wall, latest chosen first, each with its author and
    step: one query."""
    return (
        await Answer.filter(
            step__contest_id=contest.id,
            on_wall_at__isnull=False,
            publish_consent_at__isnull=False,
            entry__participant_id__isnull=False,
        )
        .select_related("entry__participant", "step")
        .order_by("-on_wall_at", "-id")
        .limit(limit)
    )
