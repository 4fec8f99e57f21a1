"""What the pages about one contest show, each read in a fixed number of queries
whatever the number of entries (the routes render, they do not query)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contests import frozen
from contests.answers import answers_of
from contests.content import localize
from contests.entries import Progress, entry_of, progress
from contests.errors import N_, NotFound
from contests.lifecycle import PUBLIC
from contests.models import (
    Answer,
    Contest,
    ContestStatus,
    Draw,
    Entry,
    EntryStatus,
    Participant,
    Prize,
    Review,
    Step,
    Winner,
)
from contests.review import review_of
from contests.steps.registry import kind_of
from contests.tokens import Tokens


async def public_contest(slug: str) -> Contest:
    contest = await Contest.filter(slug=slug, status__in=PUBLIC).select_related("brand").first()
    if contest is None:
        raise NotFound(N_("This contest does not exist or is not public yet."), "contest_not_found")
    return contest


@dataclass(frozen=True)
class ContestView:
    contest: Contest
    prizes: list[Prize]
    steps: list[Step]
    entry: Entry | None
    progress: Progress | None
    # For each unlocked step of the viewer's, what its kind's template needs.
    step_views: dict[int, dict[str, Any]]
    # What the viewer answered on this page (a quiz's tries, an opinion), by step id.
    answers: dict[int, Answer]
    winners: list[Winner]
    my_win: Winner | None
    # The brand's decision on the viewer's entry, when it was reviewed.
    review: Review | None = None


async def contest_view(
    contest: Contest, viewer: Participant | None, tokens: Tokens, locale: str | None = None
) -> ContestView:
    """The contest page's rows; with ``locale``, in that language where it is written."""
    entry = await entry_of(contest, viewer)
    mine = await progress(entry) if entry else None
    prizes = await Prize.filter(contest=contest).order_by("position", "id")
    steps = (
        [row.step for row in mine.steps]
        if mine
        else await Step.filter(contest=contest).order_by("position", "id")
    )
    if locale is not None:
        # Before the kinds prepare their views: a question is asked in the reader's language.
        localize(contest, prizes, steps, locale)
    step_views = (
        {
            row.step.id: kind_of(row.step).participant_view(tokens, entry, row.step)
            for row in mine.steps
            if row.unlocked
        }
        if entry and mine
        else {}
    )
    # Winners are drawn in the transaction that marks the contest drawn: before it, none.
    winners = (
        await Winner.filter(contest=contest).select_related("entry", "prize").order_by("rank")
        if contest.status is ContestStatus.DRAWN
        else []
    )
    return ContestView(
        contest=contest,
        prizes=prizes,
        steps=steps,
        entry=entry,
        progress=mine,
        step_views=step_views,
        answers=await answers_of(entry) if entry else {},
        winners=winners,
        my_win=next((w for w in winners if entry and w.entry_id == entry.id), None),  # type: ignore[attr-defined]
        review=await review_of(entry)
        if entry and entry.status is EntryStatus.DISQUALIFIED
        else None,
    )


@dataclass(frozen=True)
class DrawView:
    contest: Contest
    draw: Draw | None
    entry: Entry | None
    in_list: bool
    # As ``BeaconWait``'s.
    round_at: datetime | None
    beacon_state: str


@dataclass(frozen=True)
class BeaconWait:
    """When a contest's named beacon round comes out, and where its draw stands with it:
    ``state`` is "" (no beacon, or not closed yet), "waiting" (not due yet, or just due),
    "late" (due, and the last try could not get it) or "fetched"."""

    round_at: datetime | None
    state: str


def beacon_wait(contest: Contest, record: Draw | None) -> BeaconWait:
    """The one reading of the draw's wait for its round, for the public draw page and
    the console alike."""
    round_at = datetime.fromisoformat(str(contest.beacon["round_at"])) if contest.beacon else None
    state = ""
    if record is not None and round_at is not None:
        if record.beacon_round is not None:
            state = "fetched"
        elif (
            record.beacon_problem
            and record.beacon_checked_at is not None
            and record.beacon_checked_at >= round_at
        ):
            state = "late"
        else:
            state = "waiting"
    return BeaconWait(round_at, state)


async def draw_view(contest: Contest, viewer: Participant | None) -> DrawView:
    record = await Draw.filter(contest=contest).first()
    entry = await entry_of(contest, viewer)
    in_list = bool(entry and record and await frozen.includes(contest.id, entry.public_id))
    wait = beacon_wait(contest, record)
    return DrawView(
        contest=contest,
        draw=record,
        entry=entry,
        in_list=in_list,
        round_at=wait.round_at,
        beacon_state=wait.state,
    )


async def waiting_draw(contest: Contest) -> BeaconWait:
    """For the contest page: the wait while a closed contest's draw waits for its beacon
    round ("waiting" or "late"); an empty state otherwise."""
    if contest.status is not ContestStatus.CLOSED or contest.beacon is None:
        return BeaconWait(None, "")
    wait = beacon_wait(contest, await Draw.filter(contest=contest).first())
    return wait if wait.state in ("waiting", "late") else BeaconWait(None, "")


async def certificate(contest: Contest) -> AsyncIterator[str]:
    """The draw's certificate as JSON text, in pieces: its fields, then the frozen list
    read a batch at a time, so that a million entries stream out in bounded memory."""
    record = await Draw.filter(contest=contest).only("id", "certificate").first()
    if record is None or record.certificate is None:
        raise NotFound(N_("The draw has not happened yet."), "not_drawn")
    return _certificate_text(contest.id, record.certificate)


async def _certificate_text(contest_id: int, fields: dict[str, object]) -> AsyncIterator[str]:
    yield json.dumps(fields, ensure_ascii=False)[:-1] + ', "entries": ['
    separator = ""
    async for batch in frozen.batches(contest_id):
        yield separator + ", ".join(json.dumps([p, w], ensure_ascii=False) for p, w in batch)
        separator = ", "
    yield "]}"
