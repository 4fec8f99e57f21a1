"""The contest editor: a contest written in Spanish and English, read by each participant
in theirs; what may change in a draft and once published; prizes, duplicates, rules and
their versions, eligibility declared at entry, the preview and the confirmations."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from contests import authoring, beacon, closing, content, publishing, rules
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.consent import require_current_consent
from contests.entries import enter
from contests.errors import Conflict, InvalidInput
from contests.markup import render
from contests.models import (
    AuditLog,
    Brand,
    Contest,
    ContestStatus,
    Entry,
    Outbox,
    Prize,
    RulesVersion,
    Step,
)
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    answer_to,
    brand_and_marketer_address,
    brand_with_marketer,
    browser,
    csrf,
    draft_contest,
    email,
    enter_on_the_web,
    entrant,
    live_contest,
    marketer_console,
    page_text,
    participant,
    sign_in,
    unique,
)

_console = marketer_console


def _path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}"


async def _bilingual(brand: Brand, *, starts_in: timedelta = timedelta(minutes=-5)) -> Contest:
    """A draft written in Spanish with an English title and description, one prize
    translated and one not, and a quiz whose question is in both languages."""
    now = utcnow()
    contest = await authoring.create_contest(
        brand,
        ContestDraft(
            title=unique("La ruta del café"),
            description="Encuentra **las pistas**.\n\nSegundo párrafo.",
            starts_at=now + starts_in,
            ends_at=now + timedelta(days=3),
            language="es",
            texts={"en": {"title": "The coffee trail", "description": "Find *the clues*."}},
        ),
        actor="test",
        now=now,
    )
    await authoring.add_prize(
        contest,
        name="Un año de café",
        description="",
        quantity=1,
        texts={"en": {"name": "A year of coffee"}},
        actor="test",
        now=now,
    )
    await authoring.add_prize(
        contest, name="Una taza", description="", quantity=2, actor="test", now=now
    )
    await authoring.add_step(
        contest,
        StepDraft(
            kind="quiz",
            title="La pregunta del tueste",
            clue="Mira la página de origen",
            settings={"question": "¿Qué día tostamos?", "answer_mode": "text", "accepted": "lunes"},
            texts={"en": {"title": "The roasting question", "question": "Which day do we roast?"}},
        ),
        actor="test",
        now=now,
    )
    return contest


# Markdown.


def test_descriptions_keep_paragraphs_and_formatting_and_nothing_else() -> None:
    html = str(
        render(
            "# Big\n\nA **bold** word\nnext line\n\n- one\n- <script>alert(1)</script>\n\n"
            "[ok](https://shop.example.com) [bad](javascript:alert(1)) <img src=x onerror=y>"
        )
    )
    assert "<h3>Big</h3>" in html
    assert "<strong>bold</strong> word<br>" in html
    assert "<li>one</li>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://shop.example.com"' in html and "noopener" in html
    assert 'href="javascript' not in html


# Languages.


async def test_participants_read_their_language_and_fall_back_to_the_main_one(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await _bilingual(brand)
    await publishing.publish(contest, actor="test", now=utcnow())
    async with browser(app, language="en") as reader:
        english = await reader.get(f"/c/{contest.slug}")
    async with browser(app, language="es") as reader:
        spanish = await reader.get(f"/c/{contest.slug}")
    assert english.status_code == spanish.status_code == 200
    assert "The coffee trail" in english.text and "<em>the clues</em>" in english.text
    assert "A year of coffee" in english.text
    # Not translated: the Spanish name stands in.
    assert "Una taza" in english.text
    assert "The roasting question" in english.text
    assert contest.title in spanish.text and "<strong>las pistas</strong>" in spanish.text
    assert "<p>Segundo párrafo.</p>" in spanish.text
    assert "Un año de café" in spanish.text and "A year of coffee" not in spanish.text
    # The rows in the database keep the main language.
    stored = await Contest.get(id=contest.id)
    assert stored.title == contest.title


async def test_a_quiz_asks_its_question_in_the_participants_language(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await _bilingual(brand)
    await publishing.publish(contest, actor="test", now=utcnow())
    async with browser(app, language="en") as reader:
        await enter_on_the_web(reader, mailbox, contest)
        english = page_text(await reader.get(f"/c/{contest.slug}"))
    assert "Which day do we roast?" in english
    assert "¿Qué día tostamos?" not in english
    step = await Step.get(contest=contest)
    async with browser(app, language="en") as reader:
        await enter_on_the_web(reader, mailbox, contest)
        answered = await reader.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": await csrf(reader, f"/c/{contest.slug}"), "answer": "Lunes"},
        )
        said = await after_redirect(reader, answered)
    assert "Right answer! “The roasting question” is done." in said


async def test_the_console_says_what_is_missing_in_each_language(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _bilingual(brand)
    report = {
        m.language: m.items
        for m in content.missing(
            contest,
            await Prize.filter(contest=contest).order_by("position"),
            await Step.filter(contest=contest),
        )
    }
    assert report["es"] == []
    assert ("name", "Una taza") in report["en"]
    assert ("clue", "La pregunta del tueste") in report["en"]
    assert ("title", "") not in report["en"]
    async with _console(app, mailbox, address) as console:
        said = page_text(await console.get(_path(brand, contest)))
    assert "Missing in English:" in said and "name (Una taza)" in said


async def test_a_marketer_writes_both_languages_and_changes_the_main_one(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _bilingual(brand)
    async with _console(app, mailbox, address) as console:
        form = f"{_path(brand, contest)}/edit"
        page = await console.get(form)
        assert 'value="The coffee trail"' in page.text
        saved = await console.post(
            form,
            data={
                "csrf_token": await csrf(console, form),
                "language": "en",
                "title_es": "La ruta",
                "title_en": "The trail",
                "description_es": "",
                "description_en": "In English first",
                "starts_at": "2030-01-01T10:00",
                "ends_at": "2030-02-01T10:00",
                "timezone": "Atlantic/Canary",
                "alternates": "3",
                "min_age": "18",
                "countries": ["ES", "PT"],
            },
        )
        assert "Contest saved." in await after_redirect(console, saved)
    stored = await Contest.get(id=contest.id)
    assert (stored.language, stored.title, stored.description) == (
        "en",
        "The trail",
        "In English first",
    )
    assert stored.texts["es"]["title"] == "La ruta"
    assert (stored.timezone, stored.alternates, stored.min_age) == ("Atlantic/Canary", 3, 18)
    assert stored.countries == ["ES", "PT"]
    # The prizes and steps now hold English in their columns, Spanish among the texts.
    first = await Prize.filter(contest=contest).order_by("position").first()
    assert first is not None and first.name == "A year of coffee"
    assert first.texts["es"]["name"] == "Un año de café"
    step = await Step.get(contest=contest)
    assert step.config["question"] == "Which day do we roast?"


# What may change, and when.


async def test_a_published_contest_keeps_who_may_take_part_but_its_words_change(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    start = contest.starts_at
    async with _console(app, mailbox, address) as console:
        form = f"{_path(brand, contest)}/edit"
        page = await console.get(form)
        assert re.search(r'id="starts_at"[^>]*disabled', page.text)
        ends = re.search(r'id="ends_at"[^>]*value="([^"]+)"', page.text)
        assert ends is not None
        data = {
            "csrf_token": await csrf(console, form),
            "title_es": "Nuevo título",
            "title_en": "New title",
            "ends_at": ends.group(1),
        }
        saved = await console.post(form, data=data)
        assert saved.status_code == 303
        # An end earlier than the current one is refused, and the form keeps what was typed.
        sooner = (contest.ends_at - timedelta(hours=1)).astimezone(ZoneInfo(contest.timezone))
        earlier = await console.post(
            form,
            data={**data, "title_en": "Typed again", "ends_at": sooner.strftime("%Y-%m-%dT%H:%M")},
        )
        assert earlier.status_code == 409
        assert "can only move later" in page_text(earlier)
        assert 'value="Typed again"' in earlier.text
    stored = await Contest.get(id=contest.id)
    assert stored.title == "Nuevo título" and stored.texts["en"]["title"] == "New title"
    assert stored.starts_at == start

    with pytest.raises(Conflict, match="the minimum age can no longer change"):
        await authoring.edit_contest(
            stored,
            ContestDraft(
                title="Nuevo título",
                description="",
                starts_at=stored.starts_at,
                ends_at=stored.ends_at,
                timezone=stored.timezone,
                alternates=stored.alternates,
                min_age=18,
            ),
            actor="test",
            now=utcnow(),
        )


async def test_prizes_are_deleted_and_reordered_in_a_draft_only(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _bilingual(brand)
    mug = await Prize.get(contest=contest, name="Una taza")
    async with _console(app, mailbox, address) as console:
        path = _path(brand, contest)
        token = await csrf(console, path)
        moved = await console.post(
            f"{path}/prizes/{mug.id}/move", data={"csrf_token": token, "direction": "up"}
        )
        assert moved.status_code == 303
        names = [p.name for p in await Prize.filter(contest=contest).order_by("position")]
        assert names == ["Una taza", "Un año de café"]
        deleted = await console.post(f"{path}/prizes/{mug.id}/delete", data={"csrf_token": token})
        assert "Prize “Una taza” deleted." in await after_redirect(console, deleted)
        assert [(p.name, p.position) for p in await Prize.filter(contest=contest)] == [
            ("Un año de café", 0)
        ]
        await publishing.publish(contest, actor="test", now=utcnow())
        prize = await Prize.get(contest=contest)
        refused = await console.post(f"{path}/prizes/{prize.id}/delete", data={"csrf_token": token})
        assert "its prizes can no longer be deleted" in await answer_to(console, refused)
        renamed = await console.post(
            f"{path}/prizes/{prize.id}",
            data={"csrf_token": token, "name": "Café", "name_en": "Coffee", "quantity": "1"},
        )
        assert "Prize saved." in await after_redirect(console, renamed)
        more = await console.post(
            f"{path}/prizes/{prize.id}",
            data={"csrf_token": token, "name": "Café", "quantity": "5"},
        )
        assert "quantity can no longer change" in await answer_to(console, more)
    await prize.refresh_from_db()
    assert (prize.name, prize.texts["en"]["name"], prize.quantity) == ("Café", "Coffee", 1)


async def test_a_required_step_added_to_a_live_contest_needs_a_confirmation(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    async with _console(app, mailbox, address) as console:
        path = _path(brand, contest)
        form = {
            "csrf_token": await csrf(console, path),
            "kind": "share",
            "title": "Share it",
            "required": "on",
        }
        page = page_text(await console.get(path))
        assert "I understand, add it as required." in page
        refused = await console.post(f"{path}/steps", data=form)
        assert "takes out of the draw everyone" in await answer_to(console, refused)
        assert not await Step.filter(contest=contest, title="Share it").exists()
        added = await console.post(f"{path}/steps", data={**form, "confirm_required": "on"})
        assert "Step added." in await after_redirect(console, added)
    assert (await Step.get(contest=contest, title="Share it")).required


async def test_the_steps_table_shows_what_each_step_is_revealed_after(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await draft_contest(brand)
    first = await authoring.add_step(
        contest, StepDraft(kind="share", title="First share"), actor="t", now=utcnow()
    )
    await authoring.add_step(
        contest,
        StepDraft(kind="share", title="Second share", unlocks_after=first.id),
        actor="t",
        now=utcnow(),
    )
    async with _console(app, mailbox, address) as console:
        page = (await console.get(_path(brand, contest))).text
    cells = re.findall(r'data-testid="revealed-after">([^<]*)<', page)
    assert [page_text(httpx.Response(200, text=c)) for c in cells] == [
        "from the start",
        "after “First share”",
    ]


async def test_a_duplicate_is_a_draft_with_everything_but_entries_and_secrets(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    qr = await authoring.add_step(
        contest, StepDraft(kind="qr", title="Shop QR", required=False), actor="t", now=utcnow()
    )
    await enter(contest, await participant(), consented=True, locale="es", now=utcnow())
    async with _console(app, mailbox, address) as console:
        path = _path(brand, contest)
        copied = await console.post(
            f"{path}/duplicate", data={"csrf_token": await csrf(console, path)}
        )
        assert "This is a draft copy" in await after_redirect(console, copied)
    copy = await Contest.filter(brand=brand).exclude(id=contest.id).get()
    assert copy.status is ContestStatus.DRAFT and copy.title == contest.title
    assert copy.slug != contest.slug and copy.seed is None and copy.entry_count == 0
    assert not await Entry.filter(contest=copy).exists()
    original = await Step.filter(contest=contest).order_by("position")
    steps = await Step.filter(contest=copy).order_by("position")
    assert [s.title for s in steps] == [s.title for s in original]
    assert not {s.public_id for s in steps} & {s.public_id for s in original}
    copied_qr = next(s for s in steps if s.kind == "qr")
    assert copied_qr.config["secret"] != qr.config["secret"]
    assert await Prize.filter(contest=copy).count() == 1
    assert await AuditLog.filter(action="contest.duplicated", target=copy.slug).exists()


# Moving the end: the contest form and "Move the end" are one step with one set of rules.

ROUTES = ["form", "move"]


def _local(moment: datetime, contest: Contest) -> str:
    return moment.astimezone(ZoneInfo(contest.timezone)).strftime("%Y-%m-%dT%H:%M")


async def _move(
    console: httpx.AsyncClient, brand: Brand, contest: Contest, ends_at: datetime, route: str
) -> str:
    """Send ``ends_at`` through one of the two routes; what the marketer is then told."""
    path = _path(brand, contest)
    if route == "move":
        token = await csrf(console, path)
        response = await console.post(
            f"{path}/end", data={"csrf_token": token, "ends_at": _local(ends_at, contest)}
        )
        assert response.status_code == 303
        return await after_redirect(console, response)
    stored = await Contest.get(id=contest.id)
    token = await csrf(console, f"{path}/edit")
    response = await console.post(
        f"{path}/edit",
        data={
            "csrf_token": token,
            "language": stored.language,
            f"title_{stored.language}": stored.title,
            "timezone": stored.timezone,
            "starts_at": _local(stored.starts_at, stored),
            "ends_at": _local(ends_at, stored),
            "alternates": str(stored.alternates),
            "min_age": str(stored.min_age),
        },
    )
    if response.status_code == 303:
        return await after_redirect(console, response)
    assert response.status_code in (409, 422)
    return page_text(response)


MOVED = {"form": "Contest saved.", "move": "End time changed."}


async def _end_moves(contest: Contest) -> list[AuditLog]:
    return await AuditLog.filter(action="contest.end_moved", target=contest.slug).order_by("id")


async def _scheduled(brand: Brand) -> Contest:
    """Published, starting tomorrow: nobody has taken part yet."""
    contest = await _bilingual(brand, starts_in=timedelta(days=1))
    await publishing.publish(contest, actor="test", now=utcnow())
    assert contest.status is ContestStatus.SCHEDULED
    return contest


def _round_after(contest: Contest) -> int:
    assert contest.beacon is not None
    network = beacon.network_from(contest.beacon)
    return network.round_after(
        contest.ends_at + timedelta(seconds=contest.beacon["margin_seconds"])
    )


@pytest.mark.parametrize("route", ROUTES)
async def test_a_drafts_end_moves_to_any_future_time(
    app: Any, worker: Any, mailbox: Mailbox, route: str
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _bilingual(brand)
    now = utcnow()
    async with _console(app, mailbox, address) as console:
        sooner = now + timedelta(hours=2)
        assert MOVED[route] in await _move(console, brand, contest, sooner, route)
        later = now + timedelta(days=30)
        assert MOVED[route] in await _move(console, brand, contest, later, route)
        # Started five minutes ago: a minute ago is after the start, and past.
        said = await _move(console, brand, contest, now - timedelta(minutes=1), route)
        assert "The new end must be in the future." in said
    stored = await Contest.get(id=contest.id)
    assert _local(stored.ends_at, stored) == _local(later, stored) and stored.beacon is None
    moves = await _end_moves(contest)
    assert [_local(datetime.fromisoformat(str(m.data["after"])), stored) for m in moves] == [
        _local(sooner, stored),
        _local(later, stored),
    ]


@pytest.mark.parametrize("route", ROUTES)
async def test_a_live_contests_end_moves_later_and_its_named_round_follows(
    app: Any, worker: Any, mailbox: Mailbox, route: str
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand, network=beacon.quicknet(relays=()))
    assert contest.beacon is not None
    first = contest.beacon["round"]
    old_end = contest.ends_at
    async with _console(app, mailbox, address) as console:
        # Participants have read the end: it never comes sooner, whether still ahead or
        # already gone (it started five minutes ago), and the refusal says how to end the
        # contest now.
        for sooner in (old_end - timedelta(hours=1), utcnow() - timedelta(minutes=1)):
            said = await _move(console, brand, contest, sooner, route)
            assert "Once the contest has started its end can only move later" in said
            assert "Close now and draw" in said
        assert (await Contest.get(id=contest.id)).beacon == contest.beacon
        said = await _move(console, brand, contest, old_end + timedelta(days=1), route)
        assert MOVED[route] in said
    moved = await Contest.get(id=contest.id)
    assert moved.ends_at > old_end + timedelta(hours=23, minutes=58)
    assert moved.beacon is not None
    # The round named at publication follows the end, same network and margin: still
    # the first one published after the end plus the margin.
    assert moved.beacon["round"] == _round_after(moved)
    assert moved.beacon["round"] > first + 24 * 60 * 60 // beacon.QUICKNET_PERIOD - 30
    assert {k: v for k, v in moved.beacon.items() if k not in ("round", "round_at")} == {
        k: v for k, v in contest.beacon.items() if k not in ("round", "round_at")
    }
    [logged] = await _end_moves(contest)
    assert logged.data["before"] == old_end.isoformat()
    assert datetime.fromisoformat(str(logged.data["after"])) == moved.ends_at
    assert logged.data["beacon_round_before"] == first
    assert logged.data["beacon_round"] == moved.beacon["round"]


@pytest.mark.parametrize("route", ROUTES)
async def test_a_scheduled_contests_end_may_come_sooner_but_not_before_its_start(
    app: Any, worker: Any, mailbox: Mailbox, route: str
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _scheduled(brand)
    assert contest.beacon is not None
    first = contest.beacon["round"]
    async with _console(app, mailbox, address) as console:
        said = await _move(console, brand, contest, contest.starts_at - timedelta(hours=1), route)
        assert "The contest must end after it starts." in said
        said = await _move(console, brand, contest, utcnow() - timedelta(hours=1), route)
        assert "The contest must end after it starts." in said
        sooner = contest.ends_at - timedelta(days=1)
        assert MOVED[route] in await _move(console, brand, contest, sooner, route)
    moved = await Contest.get(id=contest.id)
    assert _local(moved.ends_at, moved) == _local(sooner, moved)
    assert moved.beacon is not None
    assert moved.beacon["round"] == _round_after(moved) < first
    assert len(await _end_moves(contest)) == 1


@pytest.mark.parametrize("route", ROUTES)
async def test_a_closed_contests_end_does_not_move(
    app: Any, worker: Any, mailbox: Mailbox, route: str
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    assert await closing.close(contest.id, utcnow())
    closed = await Contest.get(id=contest.id)
    async with _console(app, mailbox, address) as console:
        said = await _move(console, brand, contest, contest.ends_at + timedelta(days=1), route)
        assert "The contest is closed: its end and its settings can no longer change." in said
    assert (await Contest.get(id=contest.id)).ends_at == closed.ends_at
    assert await _end_moves(contest) == []


async def test_moving_the_end_to_where_it_already_is_changes_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    await Contest.filter(id=contest.id).update(
        ends_at=contest.ends_at.replace(second=0, microsecond=0)
    )
    contest = await Contest.get(id=contest.id)
    async with _console(app, mailbox, address) as console:
        said = await _move(console, brand, contest, contest.ends_at, "move")
        assert "The contest already ends at that time." in said
    assert await _end_moves(contest) == []


async def test_both_routes_refuse_a_contest_closed_while_the_form_was_open() -> None:
    """The rules are read on the locked row, not on the copy the page loaded."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    assert await closing.close(contest.id, utcnow())
    later = contest.ends_at + timedelta(days=1)
    with pytest.raises(Conflict, match="its end and its settings can no longer change"):
        await authoring.move_end(contest, later, actor="test", now=utcnow())
    draft = ContestDraft(
        title=contest.title,
        description=contest.description,
        starts_at=contest.starts_at,
        ends_at=later,
        alternates=contest.alternates,
    )
    with pytest.raises(Conflict, match="its end and its settings can no longer change"):
        await authoring.edit_contest(contest, draft, actor="test", now=utcnow())
    assert (await Contest.get(id=contest.id)).ends_at == contest.ends_at


async def _waiting_for_a_row_lock() -> bool:
    rows = await connections.get("default").execute_query_dict(
        "SELECT count(*) AS n FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return bool(rows[0]["n"])


@pytest.mark.parametrize("route", ROUTES)
async def test_a_move_waits_for_a_close_holding_the_contest_then_is_refused(
    database_url: str, route: str
) -> None:
    """Both routes read the rules on the locked row: a close that holds the contest
    while the end is moved wins, and the move is refused rather than lost in it."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no row locks: its writers take turns on the whole database")
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    holding, closed = asyncio.Event(), asyncio.Event()

    async def close_slowly() -> None:
        async with in_transaction():
            await Contest.select_for_update().get(id=contest.id)
            holding.set()
            await closed.wait()
            await Contest.filter(id=contest.id).update(status=ContestStatus.CLOSED)

    closer = asyncio.create_task(close_slowly())
    await holding.wait()
    later = contest.ends_at + timedelta(days=1)
    draft = ContestDraft(
        title=contest.title,
        description=contest.description,
        starts_at=contest.starts_at,
        ends_at=later,
        alternates=contest.alternates,
    )
    mover = asyncio.create_task(
        authoring.move_end(contest, later, actor="test", now=utcnow())
        if route == "move"
        else authoring.edit_contest(contest, draft, actor="test", now=utcnow())
    )
    for _ in range(400):
        if await _waiting_for_a_row_lock():
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the move never waited for the contest's row")
    assert not mover.done()
    closed.set()
    await closer
    with pytest.raises(Conflict, match="its end and its settings can no longer change"):
        await mover
    stored = await Contest.get(id=contest.id)
    assert stored.ends_at == contest.ends_at and stored.status is ContestStatus.CLOSED
    assert await _end_moves(contest) == []


# Publishing and the irreversible buttons.


async def test_publish_and_close_ask_for_a_ticked_confirmation(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    draft = await _bilingual(brand)
    live = await live_contest(brand)
    async with _console(app, mailbox, address) as console:
        token = await csrf(console, _path(brand, draft))
        for contest, action in ((draft, "publish"), (live, "close")):
            refused = await console.post(
                f"{_path(brand, contest)}/{action}", data={"csrf_token": token}
            )
            said = await after_redirect(console, refused)
            assert "Tick the box to confirm: this cannot be undone." in said
            assert re.search(
                r'name="confirm" value="on" required',
                (await console.get(_path(brand, contest))).text,
            )
    assert (await Contest.get(id=draft.id)).status is ContestStatus.DRAFT
    assert (await Contest.get(id=live.id)).status is ContestStatus.LIVE


async def test_publish_lists_everything_missing_at_once() -> None:
    brand, _ = await brand_with_marketer()
    contest = await draft_contest(brand)
    now = utcnow()
    optional = await authoring.add_step(
        contest, StepDraft(kind="share", title="Optional", required=False), actor="t", now=now
    )
    await authoring.add_step(
        contest,
        StepDraft(kind="share", title="Locked", unlocks_after=optional.id),
        actor="t",
        now=now,
    )
    found = await publishing.problems(contest, now + timedelta(days=2))
    assert [p.message for p in found] == [
        "Add at least one prize.",
        "The end time has already passed: move it later.",
        "“%(step)s” is required but revealed after the optional “%(after)s”.",
    ]
    with pytest.raises(Conflict, match="not ready"):
        await publishing.publish(contest, actor="t", now=now)


# Rules.


async def test_rules_start_from_the_template_and_publishing_keeps_version_one(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _bilingual(brand)
    async with _console(app, mailbox, address) as console:
        form = f"{_path(brand, contest)}/rules"
        page = page_text(await console.get(form))
        assert f"{brand.name} organiza el concurso" in page
        assert f"{brand.name} runs the contest “The coffee trail”" in page
        token = await csrf(console, form)
        empty = await console.post(
            form, data={"csrf_token": token, "rules_es": "", "privacy_es": "x"}
        )
        assert empty.status_code == 422
        assert "Write the rules and the privacy notice" in page_text(empty)
        for text in ("Primeras bases", "Bases corregidas"):
            saved = await console.post(
                form,
                data={"csrf_token": token, "rules_es": text, "privacy_es": "Tus datos"},
            )
            assert "Rules saved as version 1." in await after_redirect(console, saved)
    # In a draft nobody has accepted anything: the one version is rewritten.
    [version] = await RulesVersion.filter(contest=contest)
    assert version.texts["es"]["rules"] == "Bases corregidas"
    await publishing.publish(contest, actor="test", now=utcnow())
    assert await RulesVersion.filter(contest=contest).count() == 1


async def test_a_contest_published_without_rules_gets_the_templates() -> None:
    brand, _ = await brand_with_marketer()
    contest = await _bilingual(brand)
    await publishing.publish(contest, actor="test", now=utcnow())
    version = await rules.current(contest)
    assert version is not None and version.version == 1
    assert brand.name in version.texts["en"]["privacy"]
    assert (await Contest.get(id=contest.id)).rules_version == "1"


async def test_a_new_version_asks_entrants_to_accept_again_before_going_on(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await _bilingual(brand)
    await rules.save(
        contest, {"es": {"rules": "Versión uno", "privacy": "Datos"}}, actor="t", now=utcnow()
    )
    await publishing.publish(contest, actor="test", now=utcnow())
    step = await Step.get(contest=contest)
    async with browser(app, language="en") as reader:
        entry = await enter_on_the_web(reader, mailbox, contest)
        assert entry.consent_version == "1"
        consent_line = (await reader.get(f"/c/{contest.slug}/rules")).text
        assert "Versión uno" in consent_line and "You accepted this version" in page_text(
            await reader.get(f"/c/{contest.slug}/rules")
        )
        await rules.save(
            contest, {"es": {"rules": "Versión dos", "privacy": "Datos"}}, actor="t", now=utcnow()
        )
        page = await reader.get(f"/c/{contest.slug}")
        assert 'data-testid="accept-again"' in page.text
        token = await csrf(reader, f"/c/{contest.slug}")
        answered = await reader.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": token, "answer": "lunes"},
        )
        assert "accept them again to go on" in await after_redirect(reader, answered)
        accepted = await reader.post(
            f"/c/{contest.slug}/consent",
            data={"csrf_token": token, "consent": "on", "version": "2"},
        )
        assert "you can go on with the gymkana" in await after_redirect(reader, accepted)
        again = await reader.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": token, "answer": "lunes"},
        )
        assert again.status_code == 303
        assert 'data-testid="accept-again"' not in (await reader.get(f"/c/{contest.slug}")).text
    await entry.refresh_from_db()
    assert entry.consent_version == "2"
    stored = await Contest.get(id=contest.id)
    require_current_consent(stored, entry)
    # An entrant reads the version they accepted, and the old one stays readable.
    async with browser(app) as anyone:
        old = await anyone.get(f"/c/{contest.slug}/rules?v=1")
        assert "Versión uno" in old.text
        assert (await anyone.get(f"/c/{contest.slug}/rules?v=9")).status_code == 404


# Eligibility.


async def test_entering_checks_the_declared_age_and_country_and_keeps_them(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await _bilingual(brand)
    contest.min_age, contest.countries = 18, ["ES", "PT"]
    await contest.save(update_fields=["min_age", "countries"])
    await publishing.publish(contest, actor="test", now=utcnow())
    async with browser(app, language="en") as reader:
        address = email("ana")
        await sign_in(reader, mailbox, address, f"/c/{contest.slug}")
        page = page_text(await reader.get(f"/c/{contest.slug}"))
        assert "For people aged 18 or over" in page
        assert "Open to people living in: Spain, Portugal" in page
        token = await csrf(reader, f"/c/{contest.slug}")
        base = {"csrf_token": token, "consent": "yes"}
        for data, message in (
            ({"country": "ES"}, "Tell us your age to take part."),
            ({"age": "16", "country": "ES"}, "This contest is for people aged 18 or over."),
            ({"age": "abc", "country": "ES"}, "Type your age in years."),
            ({"age": "30"}, "Tell us the country you live in to take part."),
            ({"age": "30", "country": "FR"}, "not open to people living in that country"),
        ):
            refused = await reader.post(f"/c/{contest.slug}/enter", data={**base, **data})
            assert message in await after_redirect(reader, refused), data
        assert not await Entry.filter(contest=contest).exists()
        entered = await reader.post(
            f"/c/{contest.slug}/enter", data={**base, "age": "30", "country": "PT"}
        )
        assert entered.status_code == 303
    entry = await Entry.get(contest=contest)
    assert (entry.declared_age, entry.declared_country) == (30, "PT")


async def test_eligibility_settings_are_checked() -> None:
    brand, _ = await brand_with_marketer()
    now = utcnow()
    draft = ContestDraft(title="x", description="", starts_at=now, ends_at=now + timedelta(days=1))
    for bad, message in (
        ({"min_age": 150}, "minimum age"),
        ({"countries": ("XX",)}, "not a country code"),
        ({"language": "fr"}, "Spanish or English"),
        ({"timezone": "Moon/Base"}, "not a time zone"),
    ):
        with pytest.raises(InvalidInput, match=message):
            await authoring.create_contest(
                brand, ContestDraft(**{**draft.__dict__, **bad}), actor="t", now=now
            )


# Preview.


async def test_a_draft_is_previewed_in_both_languages_by_the_brands_marketers_only(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _bilingual(brand)
    async with _console(app, mailbox, address) as console:
        link = await console.get(f"{_path(brand, contest)}/preview?lang=en")
        assert link.status_code == 303
        preview = link.headers["location"]
        assert preview.startswith("/preview/") and preview.endswith("?lang=en")
        english = await console.get(preview)
        assert english.status_code == 200
        assert "The coffee trail" in english.text and 'data-testid="preview-note"' in english.text
        spanish = await console.get(preview.replace("lang=en", "lang=es"))
        assert contest.title in spanish.text and "Un año de café" in spanish.text
        rules_page = await console.get(preview.split("?")[0] + "/rules")
        assert rules_page.status_code == 200 and brand.name in rules_page.text
        tampered = await console.get(preview.split("?")[0][:-3] + "abc")
        assert tampered.status_code in (400, 403, 404, 422)
    # The public page does not show a draft, and the link opens for nobody else.
    async with browser(app) as stranger:
        assert (await stranger.get(f"/c/{contest.slug}")).status_code == 404
        anonymous = await stranger.get(preview)
        assert anonymous.status_code in (303, 307) and "/login" in anonymous.headers["location"]
    _, other_address = await brand_and_marketer_address()
    async with _console(app, mailbox, other_address) as outsider:
        refused = await outsider.get(preview)
        assert refused.status_code in (403, 404)
        assert "The coffee trail" not in refused.text


async def test_a_preview_in_the_other_language_leaves_the_console_in_the_marketers(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _bilingual(brand)
    console_page = _path(brand, contest)
    async with _console(app, mailbox, address) as console:
        preview = (await console.get(f"{console_page}/preview?lang=es")).headers["location"]
        spanish = page_text(await console.get(preview))
        assert contest.title in spanish and "Un año de café" in spanish
        # Its rules, and back from them, stay in the language previewed.
        rules_link = re.search(r'href="(/preview/[^"]+/rules[^"]*)"', spanish)
        assert rules_link, "no link to the previewed rules"
        rules_page = page_text(await console.get(rules_link.group(1).replace("&amp;", "&")))
        assert "Volver al concurso" in rules_page
        # One link leads back to the contest's console page, still in English.
        back = re.search(r'href="([^"]+)" data-testid="back-to-console"', spanish)
        assert back and back.group(1) == console_page
        assert "Public page:" in page_text(await console.get(console_page))


async def test_the_in_draw_email_names_the_contest_in_the_participants_language(
    database_url: str,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await _bilingual(brand)
    await publishing.publish(contest, actor="test", now=utcnow())
    english = await entrant(contest, name="Ann", locale="en", complete=True)
    spanish = await entrant(contest, name="Ana", locale="es", complete=True)
    to_english = await Outbox.get(dedupe_key=f"in-draw:{english.id}")
    to_spanish = await Outbox.get(dedupe_key=f"in-draw:{spanish.id}")
    assert to_english.subject == "Ann, you are in the draw for “The coffee trail”"
    assert to_spanish.subject == f"Ana, ya estás en el sorteo de “{contest.title}”"


async def test_hostile_input_to_the_editor_gets_an_answer_never_a_crash(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    draft = await draft_contest(brand)
    live = await live_contest(brand)
    dates = {"starts_at": "2030-01-01T10:00", "ends_at": "2030-02-01T10:00"}
    base = {"language": "es", "title_es": "x", "timezone": "Europe/Madrid", **dates}
    async with _console(app, mailbox, address) as console:
        token = await csrf(console, _path(brand, draft))
        for contest in (draft, live):
            path = _path(brand, contest)
            for data in (
                {"language": "xx"},
                {"language": ["es", "en"]},
                {**base, "alternates": "abc"},
                {**base, "countries": ["ESP"]},
                {**base, "countries": ["zz"]},
                {**base, "title_es": "x\x00"},
                {**base, "min_age": "99999999999999"},
            ):
                answer = await console.post(f"{path}/edit", data={"csrf_token": token, **data})
                # Once published the fixed fields are not read: saving the rest is right.
                lowest = 400 if contest is draft else 300
                assert lowest <= answer.status_code < 500, (data, answer.status_code)
            for rules_text in ("a" * 30000, "a\x00"):
                answer = await console.post(
                    f"{path}/rules",
                    data={"csrf_token": token, "rules_es": rules_text, "privacy_es": "b"},
                )
                assert 400 <= answer.status_code < 500
        for token_text in ("é", "abc", "a.b.c", "x" * 3000):
            assert 400 <= (await console.get(f"/preview/{token_text}")).status_code < 500
    async with browser(app) as anyone:
        for asked in ("99999999999999999999", "-1", "abc"):
            answer = await anyone.get(f"/c/{live.slug}/rules?v={asked}")
            assert answer.status_code in (200, 404), asked
