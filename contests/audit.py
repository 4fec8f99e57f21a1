"""The audit log: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contests import changes as change_signal
from contests.errors import N_
from contests.i18n import raw_gettext
from contests.models import AuditLog, Brand

# What each action is called in the console; an action missing here shows its code.
ACTIONS: dict[str, str] = {
    "brand.created": N_("Brand created"),
    "brand.domains": N_("Site domains changed"),
    "brand.look": N_("Logo or colour changed"),
    "marketer.added": N_("Team member added"),
    "marketer.role": N_("Team member's role changed"),
    "marketer.removed": N_("Team member removed"),
    "contest.created": N_("Contest created"),
    "contest.edited": N_("Contest changed"),
    "contest.duplicated": N_("Contest duplicated"),
    "contest.draw_randomness": N_("Draw's public randomness chosen"),
    "contest.published": N_("Contest published"),
    "contest.end_moved": N_("End time moved"),
    "contest.closed": N_("Contest closed"),
    "contest.drawn": N_("Winners drawn"),
    "contest.referral_leaderboard": N_("Referral leaderboard shown or hidden"),
    "contest.claim_form": N_("Claim form changed"),
    "rules.saved": N_("Rules and privacy notice saved"),
    "prize.added": N_("Prize added"),
    "prize.edited": N_("Prize changed"),
    "prize.deleted": N_("Prize deleted"),
    "prize.moved": N_("Prize moved"),
    "prize.unawarded": N_("Prize left unawarded"),
    "step.added": N_("Step added"),
    "step.changed": N_("Step settings changed"),
    "step.edited": N_("Step text changed"),
    "step.deleted": N_("Step deleted"),
    "step.moved": N_("Step moved"),
    "entrants.exported": N_("Entrants exported"),
    "entry.cleared": N_("Flagged entry cleared"),
    "entry.disqualified": N_("Entry disqualified"),
    "winner.notified": N_("Winner told"),
    "winner.reminded": N_("Winner reminded"),
    "winner.expired": N_("Winner's claim expired"),
    "winner.promoted": N_("Alternate promoted to winner"),
    "winner.disqualified": N_("Winner disqualified"),
    "winner.claimed": N_("Prize claimed"),
    "answer.replied": N_("Reply to an answer"),
    "answer.shown": N_("Answer put on the wall"),
    "answer.hidden": N_("Answer taken off the wall"),
    "conversation.assigned": N_("Conversation assigned"),
    "conversation.answered": N_("Message answered"),
    "opt_ins.exported": N_("Opted-in list exported"),
    "install.checked": N_("Installation checked"),
}


def action_name(code: str) -> str:
    """The action as the reader's language says it; an unknown one keeps its code."""
    return raw_gettext(ACTIONS[code]) if code in ACTIONS else code


# The log is read a page at a time, newest first.
PAGE_SIZE = 50


async def record(
    *,
    actor: str,
    action: str,
    now: datetime,
    brand: Brand | None = None,
    target: str = "",
    **data: Any,
) -> None:
    await AuditLog.create(
        actor=actor, action=action, brand=brand, target=target, data=data, created_at=now
    )
    # Every change to a brand or a contest passes here: the pages this process keeps
    # for signed-out visitors must not outlive it.
    change_signal.changed()


@dataclass(frozen=True)
class Filters:
    """What the log is narrowed to; empty strings narrow nothing."""

    action: str = ""
    actor: str = ""
    # A contest's actions name it by its slug.
    target: str = ""


async def page_of(
    brand: Brand, filters: Filters = Filters(), *, before: int | None = None, limit: int = PAGE_SIZE
) -> list[AuditLog]:
    """One page of the brand's log, newest first, older than the row ``before``.

    Keyed on the id, so a page costs the same however deep it is.
    """
    query = AuditLog.filter(brand=brand)
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.actor:
        query = query.filter(actor=filters.actor)
    if filters.target:
        query = query.filter(target=filters.target)
    if before is not None:
        query = query.filter(id__lt=before)
    return await query.order_by("-id").limit(limit)


def changes(entry: AuditLog) -> list[tuple[str, str]]:
    """What the entry records, as (what, value) pairs for reading; a before and after
    pair reads as "before → after"."""
    data = dict(entry.data or {})
    pairs: list[tuple[str, str]] = []
    before, after = data.pop("before", None), data.pop("after", None)
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                pairs.append((key, f"{_text(before.get(key))} → {_text(after.get(key))}"))
    elif before is not None or after is not None:
        pairs.append(("", f"{_text(before)} → {_text(after)}"))
    pairs.extend((key, _text(value)) for key, value in sorted(data.items()))
    return pairs


def _text(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    return str(value)
