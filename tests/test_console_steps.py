"""A contest's steps changed from the console: settings edited while allowed, deleted in a
draft, reordered in a draft. Each refusal is said, and changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from contests import authoring, lifecycle
from contests.clock import utcnow
from contests.entries import record_completion
from contests.errors import NotFound
from contests.models import AuditLog, Brand, Completion, Contest, ContestStatus, Step
from contests.steps.quiz import QUIZ
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    added_step,
    answer_to,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    draft_contest,
    entrant,
    live_contest,
    marketer_console,
    page_text,
    player,
    step_of,
)

QUIZ_CHOICES = {
    "question": "Which days do we roast?",
    "choice_1": "Mondays",
    "choice_2": "Tuesdays",
    "right_2": "on",
}


_console = marketer_console
_marketer = brand_and_marketer_address


def _page(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}"


async def _post(
    console: httpx.AsyncClient, brand: Brand, contest: Contest, step: Step, action: str, **data: str
) -> str:
    """Send one of a step's forms from the contest page; what the page then says."""
    page = _page(brand, contest)
    response = await console.post(
        f"{page}/steps/{step.id}/{action}", data={"csrf_token": await csrf(console, page), **data}
    )
    return await answer_to(console, response)


def _settings(step: Step, **changes: str) -> dict[str, str]:
    """The settings form as the page fills it for ``step``, with ``changes``."""
    form = {"title": step.title, "clue": step.clue, "points": str(step.points)}
    if step.required:
        form["required"] = "on"
    return {**form, **changes}


async def _positions(contest: Contest) -> list[tuple[str, int]]:
    steps = await Step.filter(contest=contest).order_by("position", "id")
    return [(step.title, step.position) for step in steps]


async def _publish(contest: Contest) -> None:
    await authoring.add_prize(
        contest, name="A mug", description="", quantity=1, actor="test", now=utcnow()
    )
    await lifecycle.publish(contest, actor="test", now=utcnow())
    await contest.refresh_from_db()
    assert contest.status is ContestStatus.LIVE


async def _answer(client: httpx.AsyncClient, contest: Contest, step: Step, **fields: str) -> None:
    token = await csrf(client, f"/c/{contest.slug}")
    response = await client.post(
        f"/c/{contest.slug}/steps/{step.public_id}", data={"csrf_token": token, **fields}
    )
    assert response.status_code == 303, response.text


async def test_a_drafts_code_step_takes_its_new_code_and_points_and_keeps_it_when_left_empty(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    step = await added_step(contest, "code", {"code": "OLD-1"}, title="The menu")
    async with _console(app, mailbox, address) as console:
        page = page_text(await console.get(_page(brand, contest)))
        assert f'id="code-{step.id}-code" name="code" maxlength' in page
        said = await _post(
            console, brand, contest, step, "settings", **_settings(step, code="new 2", points="3")
        )
        assert "Step saved." in said
        changed = await Step.get(id=step.id)
        said = await _post(console, brand, contest, step, "settings", **_settings(changed))
        assert "Step saved." in said
    assert (await Step.get(id=step.id)).config == changed.config != step.config
    assert changed.points == 3
    assert await AuditLog.filter(brand=brand, action="step.changed").count() == 2
    await _publish(contest)
    async with player(app, mailbox, contest) as client:
        await _answer(client, contest, step, code="OLD-1")
        assert not await Completion.filter(step=step).exists()
        await _answer(client, contest, step, code="NEW2")
    assert (await Completion.get(step=step)).points == 3


async def test_a_drafts_quiz_becomes_a_typed_answer_and_participants_meet_the_new_rule(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    step = await added_step(contest, "quiz", QUIZ_CHOICES, title="The days")
    async with _console(app, mailbox, address) as console:
        page = page_text(await console.get(_page(brand, contest)))
        assert f'id="quiz-{step.id}-choice-2" name="choice_2" maxlength="200" value="Tuesdays"' in (
            page
        )
        said = await _post(
            console,
            brand,
            contest,
            step,
            "settings",
            **_settings(
                step,
                question="Who picks the coffee?",
                answer_mode="text",
                accepted="Doña Marleny\nMarleny",
                max_attempts="2",
            ),
        )
        assert "Step saved." in said
        page = page_text(await console.get(_page(brand, contest)))
        assert "Doña Marleny\nMarleny</textarea>" in page
    settings = QUIZ.settings(await Step.get(id=step.id))
    assert (settings.question, settings.choices, settings.max_attempts) == (
        "Who picks the coffee?",
        [],
        2,
    )
    await _publish(contest)
    async with player(app, mailbox, contest) as client:
        await _answer(client, contest, step, choice="2")
        assert not await Completion.filter(step=step).exists()
        await _answer(client, contest, step, answer="marleny")
    assert await Completion.filter(step=step).exists()


async def test_a_refused_setting_says_why_and_changes_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    step = await added_step(contest, "quiz", QUIZ_CHOICES, title="The days")
    async with _console(app, mailbox, address) as console:
        said = await _post(
            console,
            brand,
            contest,
            step,
            "settings",
            **_settings(step, question="Which?", choice_1="Mon", choice_2="Tue"),
        )
        assert "Mark the right choice." in said
        said = await _post(
            console,
            brand,
            contest,
            step,
            "settings",
            **_settings(step, **QUIZ_CHOICES, unlocks_after=str(step.id)),
        )
        assert "A step cannot be revealed after itself" in said
    assert (await Step.get(id=step.id)).config == step.config


async def test_a_live_step_nobody_completed_may_change_but_not_become_required(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await live_contest(brand)
    code = await step_of(contest, "code")
    step = await added_step(contest, "share", {"message": "Come"}, title="Share", required=False)
    async with _console(app, mailbox, address) as console:
        said = await _post(
            console,
            brand,
            contest,
            step,
            "settings",
            **_settings(step, points="4", message="Hi", unlocks_after=str(code.id)),
        )
        assert "Step saved." in said
        said = await _post(
            console, brand, contest, step, "settings", **_settings(step, points="9", required="on")
        )
        assert "a step can no longer become required" in said
    changed = await Step.get(id=step.id)
    assert (changed.points, changed.required, changed.config["message"]) == (4, False, "Hi")
    assert changed.unlocks_after_id == code.id  # type: ignore[attr-defined]


async def test_a_live_step_someone_completed_keeps_its_settings_points_and_requirement(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await live_contest(brand)
    step = await step_of(contest, "code")
    entry = await entrant(contest)
    await record_completion(entry, step, utcnow(), links=LINKS)
    async with _console(app, mailbox, address) as console:
        page = page_text(await console.get(_page(brand, contest)))
        assert 'data-testid="step-locked"' in page
        said = await _post(
            console, brand, contest, step, "settings", **_settings(step, points="7", code="X")
        )
        assert f"Someone has already completed “{step.title}”" in said
        said = await _post(console, brand, contest, step, "settings", **_settings(step))
        assert "only its wording" in said
    kept = await Step.get(id=step.id)
    assert (kept.points, kept.required, kept.config) == (step.points, step.required, step.config)
    assert not await AuditLog.filter(brand=brand, action="step.changed").exists()


async def test_a_qr_step_keeps_its_key_when_its_rotation_changes(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await draft_contest(brand)
    step = await added_step(contest, "qr", {}, title="The poster")
    changed = await authoring.edit_step_settings(
        contest,
        step.id,
        authoring.StepDraft(kind="qr", title="The screen", settings={"rotate_seconds": "30"}),
        actor="test",
        now=utcnow(),
    )
    assert changed.config == {"secret": step.config["secret"], "rotate_seconds": 30}


async def test_a_draft_step_is_deleted_and_the_others_close_the_gap(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    first = await added_step(contest, "share", {}, title="First")
    second = await added_step(contest, "share", {}, title="Second")
    third = await added_step(contest, "share", {}, title="Third", unlocks_after=first.id)
    async with _console(app, mailbox, address) as console:
        said = await _post(console, brand, contest, first, "delete")
        assert "“Third” is revealed after “First”: change that first" in said
        assert "Step “Second” deleted." in await _post(console, brand, contest, second, "delete")
    assert await _positions(contest) == [("First", 0), ("Third", 1)]
    assert await Step.filter(id=third.id).exists()
    assert await AuditLog.filter(brand=brand, action="step.deleted", target=contest.slug).exists()


async def test_a_published_contests_steps_cannot_be_deleted_nor_reordered(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await live_contest(brand)
    step = await step_of(contest, "code")
    await added_step(contest, "share", {}, title="Last")
    before = await _positions(contest)
    async with _console(app, mailbox, address) as console:
        page = page_text(await console.get(_page(brand, contest)))
        assert 'data-testid="delete-step"' not in page
        assert 'data-testid="move-down"' not in page
        said = await _post(console, brand, contest, step, "delete")
        assert "its steps can no longer be deleted" in said
        said = await _post(console, brand, contest, step, "move", direction="down")
        assert "its steps can no longer be reordered" in said
    assert await _positions(contest) == before


async def test_draft_steps_move_up_and_down_and_stay_numbered_in_order(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    a, _, c = [await added_step(contest, "share", {}, title=name) for name in "ABC"]
    async with _console(app, mailbox, address) as console:
        await _post(console, brand, contest, c, "move", direction="up")
        assert await _positions(contest) == [("A", 0), ("C", 1), ("B", 2)]
        await _post(console, brand, contest, a, "move", direction="down")
        assert await _positions(contest) == [("C", 0), ("A", 1), ("B", 2)]
        await _post(console, brand, contest, c, "move", direction="up")
        assert await _positions(contest) == [("C", 0), ("A", 1), ("B", 2)]
        said = await _post(console, brand, contest, c, "move", direction="left")
        assert "Move the step up or down." in said
        page = _page(brand, contest)
        token = await csrf(console, page)
        clicks = [
            console.post(
                f"{page}/steps/{c.id}/move", data={"csrf_token": token, "direction": "down"}
            )
            for _ in range(2)
        ]
        assert [r.status_code for r in await asyncio.gather(*clicks)] == [303, 303]
    positions = await _positions(contest)
    assert sorted(position for _, position in positions) == [0, 1, 2]
    assert positions == [("A", 0), ("B", 1), ("C", 2)]


async def test_another_brands_marketer_cannot_change_delete_or_move_a_step(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await _marketer()
    contest = await draft_contest(brand)
    step = await added_step(contest, "share", {}, title="Mine")
    await added_step(contest, "share", {}, title="Also mine")
    other, address = await _marketer()
    async with _console(app, mailbox, address) as console:
        token = await csrf(console, f"/console/{other.slug}")
        for action, data in (
            ("settings", {"title": "Hacked", "points": "99"}),
            ("delete", {}),
            ("move", {"direction": "down"}),
        ):
            response = await console.post(
                f"{_page(brand, contest)}/steps/{step.id}/{action}",
                data={"csrf_token": token, **data},
            )
            assert response.status_code == 404, action
    kept = await Step.get(id=step.id)
    assert (kept.title, kept.points, kept.position) == ("Mine", step.points, 0)


async def test_a_step_of_another_contest_is_not_found(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest, elsewhere = await draft_contest(brand), await draft_contest(brand)
    step = await added_step(elsewhere, "share", {}, title="Elsewhere")
    with pytest.raises(NotFound):
        await authoring.delete_step(contest, step.id, actor="test", now=utcnow())
    with pytest.raises(NotFound):
        await authoring.move_step(contest, step.id, up=True, actor="test", now=utcnow())
    assert await Step.filter(id=step.id, contest=elsewhere).exists()
