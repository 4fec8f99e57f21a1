"""The marketer's console: who may come in, what each brand may touch, and the rules a
marketer meets while building, publishing and closing a contest."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from contests import authoring, brands, lifecycle
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.entries import record_completion
from contests.errors import Conflict
from contests.models import (
    AuditLog,
    Brand,
    Completion,
    Contest,
    ContestStatus,
    Draw,
    Marketer,
    Outbox,
    OutboxStatus,
    Prize,
    Step,
    Winner,
)
from contests.settings import Settings
from tests.conftest import Mailbox, eventually
from tests.factories import (
    BRAND_SITE,
    LINKS,
    after_redirect,
    answer_to,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    draft_contest,
    email,
    entrant,
    frozen_list,
    live_contest,
    marketer_console,
    page_text,
    step_of,
    unique,
)

_console = marketer_console
_marketer = brand_and_marketer_address


async def _mail_settled(brand: Brand) -> None:
    """Wait until the worker has sent the brand's queued mail, so no work of this test's
    is still running when the next one starts."""

    async def settled() -> bool:
        return not await Outbox.filter(brand=brand, status=OutboxStatus.PENDING).exists()

    await eventually(settled)


def _contest_path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}"


async def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(
    client: httpx.AsyncClient,
) -> None:
    brand, _ = await brand_with_marketer()
    for path in ("/console", f"/console/{brand.slug}"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


async def test_a_participant_who_manages_no_brand_sees_the_no_brand_page(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    async with _console(app, mailbox, email("fan")) as fan:
        home = await fan.get("/console")
        assert home.status_code == 200
        assert "This account does not manage any brand yet." in page_text(home)
        other = await fan.get(f"/console/{brand.slug}")
        assert other.status_code == 404


async def test_a_marketer_is_linked_at_first_sign_in_by_verified_email(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("invited")
    brand, marketer = await brand_with_marketer(address.upper())
    assert marketer.participant_id is None  # type: ignore[attr-defined]
    async with _console(app, mailbox, address) as invited:
        home = await invited.get("/console")
        assert home.status_code == 303
        assert home.headers["location"] == f"/console/{brand.slug}"
        page = await invited.get(f"/console/{brand.slug}")
        assert page.status_code == 200 and brand.name in page.text
    linked = await Marketer.get(id=marketer.id).prefetch_related("participant")
    assert linked.participant is not None and linked.participant.email == address


async def test_a_marketer_sees_nothing_of_another_brand(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    mine, address = await _marketer()
    theirs, _ = await brand_with_marketer()
    their_contest = await live_contest(theirs)
    async with _console(app, mailbox, address) as console:
        for path in (
            f"/console/{theirs.slug}",
            f"/console/{theirs.slug}/outbox",
            f"/console/{theirs.slug}/contests/new",
            _contest_path(theirs, their_contest),
            # The other brand's contest reached through one's own brand.
            _contest_path(mine, their_contest),
        ):
            response = await console.get(path)
            assert response.status_code == 404, path
            assert their_contest.title not in response.text


async def test_a_marketer_cannot_change_another_brands_contests(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    mine, address = await _marketer()
    theirs, _ = await brand_with_marketer()
    draft = await draft_contest(theirs)
    live = await live_contest(theirs)
    audit_before = await AuditLog.filter(brand=theirs).count()
    async with _console(app, mailbox, address) as console:
        token = await csrf(console, f"/console/{mine.slug}")
        forms: list[tuple[str, dict[str, str]]] = [
            (f"/console/{theirs.slug}/domains", {"domains": "evil.example"}),
            (
                f"/console/{theirs.slug}/contests",
                {"title": "Hijack", "starts_at": "2030-01-01T10:00", "ends_at": "2030-02-01T10:00"},
            ),
        ]
        for brand in (theirs, mine):
            forms += [
                (f"{_contest_path(brand, draft)}/prizes", {"name": "Stolen", "quantity": "1"}),
                (
                    f"{_contest_path(brand, draft)}/steps",
                    {"kind": "code", "title": "Stolen", "code": "x"},
                ),
                (f"{_contest_path(brand, draft)}/publish", {}),
                (f"{_contest_path(brand, live)}/end", {"ends_at": "2099-01-01T10:00"}),
                (f"{_contest_path(brand, live)}/close", {}),
            ]
        for path, data in forms:
            response = await console.post(path, data={"csrf_token": token, **data})
            assert response.status_code == 404, path

    await theirs.refresh_from_db()
    assert theirs.site_domains == [BRAND_SITE]
    assert await Contest.filter(brand=theirs).count() == 2
    assert await Prize.filter(contest=draft).count() == 0
    assert await Step.filter(contest=draft).count() == 0
    await draft.refresh_from_db()
    assert draft.status is ContestStatus.DRAFT and draft.seed is None
    ends_at = live.ends_at
    await live.refresh_from_db()
    assert live.status is ContestStatus.LIVE and live.ends_at == ends_at
    assert not await Draw.filter(contest=live).exists()
    assert await AuditLog.filter(brand=theirs).count() == audit_before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"starts_at": "2030-02-01T10:00", "ends_at": "2030-01-01T10:00"},
            "The contest must end after it starts.",
        ),
        ({"timezone": "Mars/Olympus_Mons"}, "“Mars/Olympus_Mons” is not a time zone"),
        ({"title": "   "}, "The contest needs a title."),
        ({"ends_at": "next tuesday"}, "“ends_at” needs a date and a time."),
    ],
    ids=["end-before-start", "bad-time-zone", "empty-title", "unreadable-date"],
)
async def test_a_contest_with_a_mistake_is_not_saved_and_the_form_says_why(
    app: Any, worker: Any, mailbox: Mailbox, fields: dict[str, str], message: str
) -> None:
    brand, address = await _marketer()
    async with _console(app, mailbox, address) as console:
        form = f"/console/{brand.slug}/contests/new"
        data = {
            "csrf_token": await csrf(console, form),
            "title": unique("Summer"),
            "starts_at": "2030-01-01T10:00",
            "ends_at": "2030-02-01T10:00",
            "timezone": "Europe/Madrid",
            **fields,
        }
        response = await console.post(f"/console/{brand.slug}/contests", data=data)
        # The form comes back with the message and with what was typed, not emptied.
        assert response.status_code == 422
        assert message in page_text(response)
        assert f'value="{data["starts_at"]}"' in response.text
        if data["title"].strip():
            assert f'value="{data["title"]}"' in response.text
    assert not await Contest.filter(brand=brand).exists()


async def test_a_date_at_the_edge_of_the_calendar_is_refused_with_a_message(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    async with _console(app, mailbox, address) as console:
        response = await console.post(
            f"/console/{brand.slug}/contests",
            data={
                "csrf_token": await csrf(console, f"/console/{brand.slug}/contests/new"),
                "title": unique("Forever"),
                "starts_at": "2030-01-01T10:00",
                "ends_at": "9999-12-31T23:59",
                "timezone": "America/New_York",
            },
        )
        assert response.status_code == 422
        assert "“ends_at” needs a date and a time." in page_text(response)
    assert not await Contest.filter(brand=brand).exists()


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        f"https://{BRAND_SITE}.evil.example/",
        f"https://evil{BRAND_SITE}/",
        f"https://evil.example/?next=https://{BRAND_SITE}/",
        f"https://{BRAND_SITE}@evil.example/",
        f"//{BRAND_SITE}/origins",
        f"javascript://{BRAND_SITE}/%0aalert(1)",
        f"ftp://{BRAND_SITE}/file",
    ],
)
async def test_a_visit_step_cannot_lead_off_the_brands_site(
    app: Any, worker: Any, mailbox: Mailbox, target: str
) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        response = await console.post(
            f"{path}/steps",
            data={
                "csrf_token": await csrf(console, path),
                "kind": "visit",
                "title": "Our origins",
                "target_url": target,
                "dwell_seconds": "0",
            },
        )
        text = await answer_to(console, response)
        assert f"A visit step must lead to a page of the brand's site ({BRAND_SITE})" in text
    assert not await Step.filter(contest=contest).exists()


async def test_prizes_cannot_be_added_once_published(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await live_contest(brand)
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        response = await console.post(
            f"{path}/prizes",
            data={"csrf_token": await csrf(console, path), "name": "A late car", "quantity": "1"},
        )
        assert "Prizes are fixed once the contest is published." in await answer_to(
            console, response
        )
    assert await Prize.filter(contest=contest).count() == 1


async def test_publishing_needs_a_prize_and_a_step(app: Any, worker: Any, mailbox: Mailbox) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        token = await csrf(console, path)
        confirmed = {"csrf_token": token, "confirm": "on"}
        refused = await console.post(f"{path}/publish", data=confirmed)
        said = await after_redirect(console, refused)
        assert "The contest is not ready to publish yet: see what is missing." in said
        assert "Add at least one prize." in said and "Add at least one step." in said
        added = await console.post(
            f"{path}/prizes", data={"csrf_token": token, "name": "A mug", "quantity": "1"}
        )
        assert added.status_code == 303
        refused = await console.post(f"{path}/publish", data=confirmed)
        said = await after_redirect(console, refused)
        assert "Add at least one step." in said and "Add at least one prize." not in said
    await contest.refresh_from_db()
    assert contest.status is ContestStatus.DRAFT
    assert contest.seed is None and contest.seed_commitment is None
    assert not await AuditLog.filter(action="contest.published", target=contest.slug).exists()


async def test_publishing_commits_to_the_seed_and_is_in_the_audit_log(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    contest = await draft_contest(brand)
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        token = await csrf(console, path)
        for form, data in (
            ("prizes", {"name": "A mug", "quantity": "1"}),
            ("steps", {"kind": "code", "title": "The menu code", "code": "Aurora"}),
            ("publish", {"confirm": "on"}),
        ):
            response = await console.post(f"{path}/{form}", data={"csrf_token": token, **data})
            assert response.status_code == 303
        assert "Published. The seed of the draw is now committed." in await after_redirect(
            console, response
        )
        brand_page = page_text(await console.get(f"/console/{brand.slug}"))
    await contest.refresh_from_db()
    assert contest.status is ContestStatus.LIVE
    [row] = await AuditLog.filter(action="contest.published", target=contest.slug)
    assert row.actor == address and row.brand_id == brand.id  # type: ignore[attr-defined]
    assert row.data["seed_commitment"] == contest.seed_commitment
    assert "Contest published" in brand_page


async def test_closing_now_freezes_the_list_and_the_worker_draws(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    contest = await live_contest(brand)
    finisher = await entrant(contest, name="Ana", complete=True)
    await entrant(contest, name="Luis")  # entered, no step done: not eligible
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        closed = await console.post(
            f"{path}/close", data={"csrf_token": await csrf(console, path), "confirm": "on"}
        )
        assert "Closed. The list is frozen" in await after_redirect(console, closed)

        assert await frozen_list(contest) == [(finisher.public_id, 6)]
        assert (await Draw.get(contest=contest)).listed == 1

        async def drawn() -> bool:
            return await Winner.filter(contest=contest).exists()

        await eventually(drawn)
        page = await console.get(path)
    assert 'data-testid="winners"' in page.text
    assert finisher.public_id in page.text
    await contest.refresh_from_db()
    assert contest.status is ContestStatus.DRAWN
    [row] = await AuditLog.filter(action="contest.closed", target=contest.slug)
    assert row.actor == address and row.data == {"eligible": 1}
    await _mail_settled(brand)
    with pytest.raises(Conflict, match="not open"):
        await entrant(contest, name="Late")


async def test_closing_twice_is_harmless(app: Any, worker: Any, mailbox: Mailbox) -> None:
    brand, address = await _marketer()
    contest = await live_contest(brand, prizes=2)
    for name in ("Ana", "Luis", "Marta"):
        await entrant(contest, name=name, complete=True)
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        token = await csrf(console, path)
        first = await console.post(f"{path}/close", data={"csrf_token": token, "confirm": "on"})
        assert first.status_code == 303

        async def drawn() -> list[Winner]:
            return await Winner.filter(contest=contest).order_by("rank")

        winners = [w.entry_id for w in await eventually(drawn)]
        again = await console.post(f"{path}/close", data={"csrf_token": token, "confirm": "on"})
        assert again.status_code == 303
        assert (await console.get(again.headers["location"])).status_code == 200
    assert await Draw.filter(contest=contest).count() == 1
    assert [w.entry_id for w in await drawn()] == winners  # type: ignore[attr-defined]
    assert await AuditLog.filter(action="contest.closed", target=contest.slug).count() == 1
    assert await AuditLog.filter(action="contest.drawn", target=contest.slug).count() == 1
    await _mail_settled(brand)


async def test_a_draft_cannot_be_closed(app: Any, worker: Any, mailbox: Mailbox) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        response = await console.post(
            f"{path}/close", data={"csrf_token": await csrf(console, path), "confirm": "on"}
        )
        assert "A draft cannot be closed: publish it first." in await after_redirect(
            console, response
        )
    await contest.refresh_from_db()
    assert contest.status is ContestStatus.DRAFT
    assert not await Draw.filter(contest=contest).exists()


async def test_a_second_brand_lists_both_in_the_console(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    first, _ = await brand_with_marketer(address)
    second, _ = await brand_with_marketer()
    await brands.add_marketer(second, address, actor="test", now=utcnow())
    async with _console(app, mailbox, address) as console:
        home = await console.get("/console")
        assert home.status_code == 200
        assert f'href="/console/{first.slug}"' in home.text
        assert f'href="/console/{second.slug}"' in home.text


async def test_a_contest_number_too_large_to_exist_is_a_404(
    app: Any, worker: Any, mailbox: Mailbox, settings: Settings, request: pytest.FixtureRequest
) -> None:
    brand, address = await _marketer()
    async with _console(app, mailbox, address) as console:
        response = await console.get(f"/console/{brand.slug}/contests/99999999999")
    assert response.status_code == 404


async def test_a_step_following_a_step_too_large_to_exist_is_refused(
    app: Any, worker: Any, mailbox: Mailbox, settings: Settings, request: pytest.FixtureRequest
) -> None:
    brand, address = await _marketer()
    contest = await draft_contest(brand)
    async with _console(app, mailbox, address) as console:
        path = _contest_path(brand, contest)
        response = await console.post(
            f"{path}/steps",
            data={
                "csrf_token": await csrf(console, path),
                "kind": "code",
                "title": "After nothing",
                "code": "x",
                "unlocks_after": "99999999999",
            },
        )
        assert "The step it follows is not in this contest." in await answer_to(console, response)
    assert not await Step.filter(contest=contest).exists()


async def test_a_marketer_fixes_a_live_steps_wording_without_touching_completed_work(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await live_contest(brand)
    step = await step_of(contest, "code")
    entry = await entrant(contest)
    await record_completion(entry, step, utcnow(), links=LINKS)
    path = f"/console/{brand.slug}/contests/{contest.id}"
    async with _console(app, mailbox, address) as console:
        response = await console.post(
            f"{path}/steps/{step.id}",
            data={
                "csrf_token": await csrf(console, path),
                "title": "Find the code!",
                "clue": "Look at the menu",
            },
        )
        assert "Step updated." in await after_redirect(console, response)
    fixed = await Step.get(id=step.id)
    assert (fixed.title, fixed.clue, fixed.points) == (
        "Find the code!",
        "Look at the menu",
        step.points,
    )
    assert await Completion.filter(entry=entry, step=step).exists()
    assert await AuditLog.filter(brand=brand, action="step.edited").exists()


async def test_another_brands_marketer_cannot_edit_a_step(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await _marketer()
    contest = await live_contest(brand)
    step = await step_of(contest, "code")
    other, address = await _marketer()
    async with _console(app, mailbox, address) as console:
        response = await console.post(
            f"/console/{brand.slug}/contests/{contest.id}/steps/{step.id}",
            data={"csrf_token": await csrf(console, f"/console/{other.slug}"), "title": "Hacked"},
        )
        assert response.status_code == 404
    assert (await Step.get(id=step.id)).title == step.title


async def test_a_marketer_invites_a_colleague_who_then_signs_in_to_the_console(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    colleague = email("colleague")
    async with _console(app, mailbox, address) as console:
        path = f"/console/{brand.slug}"
        response = await console.post(
            f"{path}/team",
            data={"csrf_token": await csrf(console, path), "email": colleague, "name": "Pablo"},
        )
        assert "is invited" in await after_redirect(console, response)

    async def invited() -> bool:
        return bool(mailbox.to(colleague))

    await eventually(invited)
    [invitation] = mailbox.to(colleague)
    assert brand.name in str(invitation["Subject"])
    assert invitation["Reply-To"] == address
    assert f"/login?next=/console/{brand.slug}" in Mailbox.text(invitation)

    async with _console(app, mailbox, colleague) as colleague_console:
        page = await colleague_console.get(f"/console/{brand.slug}")
        assert page.status_code == 200
        assert colleague in page_text(page) and address in page_text(page)
    assert await AuditLog.filter(brand=brand, action="marketer.added", target=colleague).exists()


async def test_inviting_someone_already_in_the_team_says_so(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    async with _console(app, mailbox, address) as console:
        path = f"/console/{brand.slug}"
        response = await console.post(
            f"{path}/team", data={"csrf_token": await csrf(console, path), "email": address}
        )
        assert "can already use this brand's console" in await after_redirect(console, response)
    assert await Marketer.filter(brand=brand).count() == 1


async def test_only_the_brands_own_marketers_can_invite(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await _marketer()
    other, address = await _marketer()
    intruder = email("intruder")
    async with _console(app, mailbox, address) as console:
        response = await console.post(
            f"/console/{brand.slug}/team",
            data={"csrf_token": await csrf(console, f"/console/{other.slug}"), "email": intruder},
        )
        assert response.status_code == 404
    assert not await Marketer.filter(email=intruder).exists()


async def test_the_entries_list_shows_each_entrys_steps_chances_and_eligibility(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await _marketer()
    contest = await live_contest(brand)
    finisher = await entrant(contest, name="Fina", complete=True)
    starter = await entrant(contest, name="Sara")
    async with _console(app, mailbox, address) as console:
        page = page_text(await console.get(f"/console/{brand.slug}/contests/{contest.id}/entrants"))

    def row(pseudonym: str) -> tuple[str, ...]:
        found = re.search(
            rf"<code>{pseudonym}</code></td>\s*"
            r"<td>(\d+) / (\d+)</td><td>(\d+)</td><td>([^<]+)</td>",
            page,
        )
        assert found, f"no row for {pseudonym}"
        return found.groups()

    # Both steps (2 + 3 points) done: 1 + 5 chances, in the draw.
    assert row(finisher.public_id) == ("2", "2", "6", "yes")
    assert row(starter.public_id) == ("0", "2", "1", "not yet")


async def test_two_publishes_at_once_commit_to_one_seed(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await draft_contest(brand)
    await authoring.add_prize(
        contest, name="A prize", description="", quantity=1, actor="test", now=utcnow()
    )
    await authoring.add_step(
        contest,
        StepDraft(kind="code", title="A code", settings={"code": "abc"}),
        actor="test",
        now=utcnow(),
    )
    first, second = [await Contest.get(id=contest.id) for _ in range(2)]
    first.brand = second.brand = brand
    outcomes = await asyncio.gather(
        lifecycle.publish(first, actor="a", now=utcnow()),
        lifecycle.publish(second, actor="b", now=utcnow()),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == 1 and refused[0].code == "already_published", outcomes
    published = first if outcomes[0] is None else second
    stored = await Contest.get(id=contest.id)
    assert stored.seed_commitment == published.seed_commitment
    assert await AuditLog.filter(target=contest.slug, action="contest.published").count() == 1
