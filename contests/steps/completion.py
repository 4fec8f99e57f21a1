"""Completing a step, whatever its kind: a submission from the contest page, or
evidence reported elsewhere and judged later by a worker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tortoise.transactions import in_transaction

from contests import referrals, signals
from contests.consent import require_current_consent
from contests.entries import (
    completed_step_ids,
    record_completion,
    require_active,
    require_unlocked,
    tell_if_in_the_draw,
)
from contests.errors import N_, InvalidInput
from contests.lifecycle import require_accepting
from contests.links import Links
from contests.models import Contest, Entry, Evidence, Step
from contests.steps import verdicts
from contests.steps.kind import Attempt, CompletedBy
from contests.steps.registry import kind_of


async def submit(
    entry: Entry, step: Step, form: Mapping[str, str], now: datetime, *, links: Links
) -> bool:
    """Check a participant's submission; True when the step is now done."""
    contest = await Contest.get(id=entry.contest_id)  # type: ignore[attr-defined]
    require_accepting(contest, now)
    require_current_consent(contest, entry)
    kind = kind_of(step)
    if kind.completed_by is not CompletedBy.SUBMISSION:
        raise InvalidInput(
            N_("This step is not done from the contest page: follow its link."), "not_submitted"
        )
    require_active(entry)
    require_unlocked(step, await completed_step_ids(entry))
    if not await kind.submit(Attempt(contest, entry, step, now), form):
        return False
    await _complete(entry, step, now, links=links)
    return True


async def _complete(entry: Entry, step: Step, now: datetime, *, links: Links) -> None:
    """Record a step done, with what follows from it: the fraud signals of its timing,
    and the referral it may credit."""
    kind = kind_of(step)
    async with in_transaction():
        if await record_completion(entry, step, now, links=links):
            await signals.completion_arrived(entry, step, kind.least_seconds(step), now)
            completed = await referrals.completion_arrived(entry, step, proves=kind.proves, now=now)
            # A referral step is done when a friend does theirs: it may complete a set too.
            for other in completed:
                await tell_if_in_the_draw(other, now, links)


def wrong_answer(step: Step) -> str:
    """What to tell a participant whose submission was not right (a message id)."""
    return kind_of(step).wrong_answer


async def verify_evidence(evidence_id: int, *, links: Links) -> Evidence | None:
    """A worker's verdict on one report (see ``verdicts.verify_pending``, which judges
    them in batches); running it twice changes nothing."""
    await verdicts.verify_pending(links=links, limit=1, only=[evidence_id])
    return await Evidence.filter(id=evidence_id).first()
