"""The contract every step kind keeps, run for each kind in the registry.

A new kind joins by adding its module to the registry and a recipe here: how to set it
up rightly and wrongly, and how a participant completes it through the real services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from contests import accounts, authoring, entries
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.errors import GymkanaError, InvalidInput
from contests.models import (
    Answer,
    Completion,
    Contest,
    Entry,
    Evidence,
    EvidenceStatus,
    Participant,
    Step,
)
from contests.referrals import Arrival
from contests.steps import completion, qr, visit, visit_reports
from contests.steps.kind import CompletedBy
from contests.steps.registry import KINDS
from contests.tokens import Tokens
from tests.conftest import SECRET
from tests.factories import (
    BRAND_SITE,
    LINKS,
    brand_with_marketer,
    entrant,
    live_contest,
    participant,
    step_of,
    unique,
)

TOKENS = Tokens(SECRET)
PAGE = f"https://{BRAND_SITE}/contract"


async def _visit(entry: Entry, step: Step, now: datetime) -> bool:
    """Follow the step's link, let the snippet report from the page, let a worker judge."""
    link = visit.visit_link_token(TOKENS, entry, step)
    start = await visit.start_visit(TOKENS, link, max_age=3600, now=now)
    token = parse_qs(urlsplit(start.target).query)[visit.VISIT_PARAM][0]
    evidence, _ = await visit_reports.report_visit(
        TOKENS, token, origin=f"https://{BRAND_SITE}", page_url=PAGE, now=now
    )
    judged = await completion.verify_evidence(evidence.id, links=LINKS)
    assert judged is not None
    return judged.status is EvidenceStatus.VERIFIED


async def _type_code(entry: Entry, step: Step, now: datetime) -> bool:
    return await completion.submit(entry, step, {"code": " the  CODE "}, now, links=LINKS)


async def _scan(entry: Entry, step: Step, now: datetime) -> bool:
    """Scan the screen's code (a rotating one), then press the scan page's button."""
    await entry.fetch_related("contest", "participant")
    code = qr.QR.screen_code(step, now).code
    scanned = await qr.scan(entry.contest, step.public_id, code, entry.participant, now)
    return await completion.submit(entry, step, {"proof": scanned.proof.code}, now, links=LINKS)


async def _answer_quiz(entry: Entry, step: Step, now: datetime) -> bool:
    return await completion.submit(
        entry, step, {"choice": "", "answer": " ¡HUÍLA! "}, now, links=LINKS
    )


async def _give_opinion(entry: Entry, step: Step, now: datetime) -> bool:
    return await completion.submit(
        entry, step, {"answer": "More decaf,\nplease."}, now, links=LINKS
    )


# One friend per referrer: bringing the same friend twice is refused (they already entered).
_FRIENDS: dict[str, Participant] = {}


async def _bring_a_friend(entry: Entry, step: Step, now: datetime) -> bool:
    """A friend follows the entry's link, enters and finds the code; the referrer's
    referral step then counts them."""
    contest = await Contest.get(id=entry.contest_id)  # type: ignore[attr-defined]
    friend = _FRIENDS.get(entry.public_id) or await participant(
        address=f"{unique('friend')}@gmail.com"
    )
    _FRIENDS[entry.public_id] = friend
    theirs = await entries.enter(
        contest, friend, consented=True, locale="es", now=now, arrival=Arrival(entry.referral_code)
    )
    await completion.submit(
        theirs, await step_of(contest, "code"), {"code": "SECRET-42"}, now, links=LINKS
    )
    return await Completion.filter(entry=entry, step=step).exists()


async def _say_shared(entry: Entry, step: Step, now: datetime) -> bool:
    return await completion.submit(entry, step, {}, now, links=LINKS)


@dataclass(frozen=True)
class Recipe:
    valid: Mapping[str, object]
    invalid: list[Mapping[str, object]]
    complete: Callable[[Entry, Step, datetime], Awaitable[bool]]


RECIPES = {
    "visit": Recipe(
        valid={"target_url": PAGE, "dwell_seconds": "0"},
        invalid=[
            {},
            {"target_url": "https://elsewhere.example/"},
            {"target_url": "javascript:alert(1)"},
            {"target_url": PAGE, "dwell_seconds": "-1"},
            {"target_url": PAGE, "dwell_seconds": "many"},
        ],
        complete=_visit,
    ),
    "code": Recipe(
        valid={"code": "The code"},
        invalid=[{}, {"code": "   "}],
        complete=_type_code,
    ),
    "qr": Recipe(
        valid={"rotate_seconds": "30"},
        invalid=[
            {"rotate_seconds": "5"},
            {"rotate_seconds": "601"},
            {"rotate_seconds": "-1"},
            {"rotate_seconds": "many"},
            {"rotate_seconds": "²"},
        ],
        complete=_scan,
    ),
    "quiz": Recipe(
        valid={"question": "Where is it grown?", "answer_mode": "text", "accepted": "Huila"},
        invalid=[
            {},
            {"answer_mode": "text", "accepted": "Huila"},
            {"question": "Where?", "answer_mode": "text", "accepted": " \n ! "},
            {"question": "Where?", "choice_1": "Huila", "right_1": "on"},
            {"question": "Where?", "choice_1": "Huila", "choice_2": "Sidamo"},
            {"question": "Where?", "choice_1": "A", "right_1": "on", "choice_2": "a!"},
            {"question": "Where?", "answer_mode": "text", "accepted": "Huila", "max_attempts": "0"},
            {"question": "Where?", "answer_mode": "guess", "accepted": "Huila"},
        ],
        complete=_answer_quiz,
    ),
    "opinion": Recipe(
        valid={"question": "What would you like us to roast?", "min_length": "5"},
        invalid=[
            {},
            {"question": "Tell us", "min_length": "0"},
            {"question": "Tell us", "max_length": "5001"},
            {"question": "Tell us", "min_length": "50", "max_length": "10"},
            {"question": "Tell us", "min_length": "many"},
        ],
        complete=_give_opinion,
    ),
    "referral": Recipe(
        valid={"max_referrals": "3"},
        invalid=[
            {"max_referrals": "0"},
            {"max_referrals": "-2"},
            {"max_referrals": "1001"},
            {"max_referrals": "many"},
        ],
        complete=_bring_a_friend,
    ),
    "share": Recipe(
        valid={"message": "Join me in this contest"},
        invalid=[{"message": "x" * 281}, {"message": "Join\x00me"}, {"message": "Join\nme"}],
        complete=_say_shared,
    ),
}
NAMES = sorted(KINDS)


def test_every_kind_in_the_registry_has_a_recipe() -> None:
    assert set(RECIPES) == set(KINDS)


async def _with_step(name: str, **draft: Any) -> tuple[Contest, Step]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    step = await authoring.add_step(
        contest,
        StepDraft(kind=name, title=f"A {name} step", settings=RECIPES[name].valid, **draft),
        actor="test",
        now=utcnow(),
    )
    return contest, step


async def _attempt(name: str, entry: Entry, step: Step, now: datetime) -> bool:
    """Completing as a participant would; a refusal with a message counts as not done."""
    try:
        return await RECIPES[name].complete(entry, step, now)
    except GymkanaError:
        return False


@pytest.mark.parametrize("name", NAMES)
async def test_invalid_settings_are_refused_and_nothing_is_saved(
    database_url: str, name: str
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    before = await Step.filter(contest=contest).count()
    for settings in RECIPES[name].invalid:
        with pytest.raises(InvalidInput):
            await authoring.add_step(
                contest,
                StepDraft(kind=name, title="Wrong", settings=settings),
                actor="test",
                now=utcnow(),
            )
    assert await Step.filter(contest=contest).count() == before


@pytest.mark.parametrize("name", NAMES)
async def test_a_completion_is_recorded_once(database_url: str, name: str) -> None:
    contest, step = await _with_step(name)
    entry = await entrant(contest)
    assert await _attempt(name, entry, step, utcnow())
    await _attempt(name, entry, step, utcnow())
    assert await Completion.filter(entry=entry, step=step).count() == 1
    assert (await Completion.get(entry=entry, step=step)).points == step.points


@pytest.mark.parametrize("name", NAMES)
async def test_a_locked_step_is_refused(database_url: str, name: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    before = await step_of(contest, "code")
    step = await authoring.add_step(
        contest,
        StepDraft(kind=name, title="Locked", settings=RECIPES[name].valid, unlocks_after=before.id),
        actor="test",
        now=utcnow(),
    )
    entry = await entrant(contest)
    assert not await _attempt(name, entry, step, utcnow())
    assert not await Completion.filter(entry=entry).exists()
    assert not await Answer.filter(entry=entry).exists()


@pytest.mark.parametrize("name", NAMES)
async def test_a_closed_contest_is_refused(database_url: str, name: str) -> None:
    contest, step = await _with_step(name)
    entry = await entrant(contest)
    after_the_end = contest.ends_at + timedelta(minutes=1)
    assert not await _attempt(name, entry, step, after_the_end)
    assert not await Completion.filter(entry=entry).exists()
    assert not await Answer.filter(entry=entry).exists()


@pytest.mark.parametrize("name", NAMES)
async def test_export_and_delete_cover_what_the_kind_keeps(database_url: str, name: str) -> None:
    contest, step = await _with_step(name)
    entry = await entrant(contest)
    assert await _attempt(name, entry, step, utcnow())
    await entry.fetch_related("participant")
    person = entry.participant
    assert person is not None
    exported = await accounts.export(person, now=utcnow())
    [mine] = [e for e in exported["entries"] if e["pseudonymous_id"] == entry.public_id]
    assert [done["step"] for done in mine["steps_done"]] == [step.title]
    evidence = await Evidence.filter(entry=entry)
    if KINDS[name].completed_by is CompletedBy.EVIDENCE:
        assert evidence, "an evidence kind keeps its evidence"
        [kept] = mine["evidence"]
        assert kept["kind"] == name and kept["status"] == "verified"
        kept_by_kind = KINDS[name].personal_data(evidence[0])
        assert kept_by_kind and {key: kept[key] for key in kept_by_kind} == kept_by_kind
    else:
        assert not evidence and mine["evidence"] == []
    # What the participant answered on the contest page, and any reply, is theirs too.
    kept_answers = await Answer.filter(entry=entry).order_by("id")
    assert [(a["step"], a["answer"], a["tries"]) for a in mine["answers"]] == [
        (step.title, kept.text or None, kept.attempts) for kept in kept_answers
    ]
    await accounts.delete(person)
    assert not await Completion.filter(entry=entry).exists()
    assert not await Evidence.filter(entry=entry).exists()
    assert not await Answer.filter(entry=entry).exists()
