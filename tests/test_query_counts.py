"""Pages and exports read a fixed number of statements, whatever the number of entries,
steps or contests: an N+1 that creeps back in fails here, not in production."""

from __future__ import annotations

from typing import Any

from contests import accounts, authoring, entries
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.models import Contest, Participant, Step
from tests.conftest import Mailbox
from tests.factories import (
    BRAND_SITE,
    LINKS,
    brand_with_marketer,
    browser,
    email,
    entrant,
    live_contest,
    participant,
    sign_in,
)
from tests.support.queries import counting_queries


async def _entrants_with_progress(contest: Contest, count: int) -> None:
    steps = await Step.filter(contest=contest)
    for _ in range(count):
        entry = await entrant(contest)
        await entries.record_completion(entry, steps[0], utcnow(), links=LINKS)


async def _more_steps(contest: Contest, count: int) -> None:
    for number in range(count):
        await authoring.add_step(
            contest,
            StepDraft(
                kind="visit",
                title=f"Page {number}",
                settings={"target_url": f"https://{BRAND_SITE}/{number}"},
            ),
            actor="test",
            now=utcnow(),
        )


async def test_the_console_contest_page_does_not_grow_with_its_entrants(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    contest = await live_contest(brand)
    path = f"/console/{brand.slug}/contests/{contest.id}"
    async with browser(app, language="en") as console:
        await sign_in(console, mailbox, address)
        await _entrants_with_progress(contest, 2)
        with counting_queries() as few:
            assert (await console.get(path)).status_code == 200
        await _entrants_with_progress(contest, 6)
        with counting_queries() as many:
            assert (await console.get(path)).status_code == 200
    assert 0 < few.count == many.count, many.statements


async def test_the_contest_page_does_not_grow_with_its_steps(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("player")
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with browser(app, language="en") as player:
        await sign_in(player, mailbox, address)
        person = await Participant.get(email=address)
        await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
        with counting_queries() as few:
            assert (await player.get(f"/c/{contest.slug}")).status_code == 200
        await _more_steps(contest, 4)
        with counting_queries() as many:
            assert (await player.get(f"/c/{contest.slug}")).status_code == 200
    assert 0 < few.count == many.count, many.statements


async def test_the_account_page_does_not_grow_with_the_contests_entered(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("player")
    brand, _ = await brand_with_marketer()
    async with browser(app, language="en") as player:
        await sign_in(player, mailbox, address)
        person = await Participant.get(email=address)
        for _ in range(1):
            contest = await live_contest(brand)
            await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
        with counting_queries() as few:
            assert (await player.get("/me")).status_code == 200
        for _ in range(3):
            contest = await live_contest(brand)
            await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
        with counting_queries() as many:
            assert (await player.get("/me")).status_code == 200
    assert 0 < few.count == many.count, many.statements


async def test_an_export_does_not_grow_with_the_contests_entered(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    person = await participant()

    async def enter_one() -> None:
        contest = await live_contest(brand)
        entry = await entries.enter(contest, person, consented=True, locale="es", now=utcnow())
        for step in await Step.filter(contest=contest):
            await entries.record_completion(entry, step, utcnow(), links=LINKS)

    await enter_one()
    with counting_queries() as few:
        await accounts.export(person, now=utcnow())
    for _ in range(3):
        await enter_one()
    with counting_queries() as many:
        exported = await accounts.export(person, now=utcnow())
    assert len(exported["entries"]) == 4
    assert 0 < few.count == many.count, many.statements


# What a signed-in participant's contest page may read, whatever they have done and
# however many take part: the contest, the session with its participant, the entry, its
# steps, completions and answers, the prizes, the conversation with the brand, the wall,
# whether they are a marketer (ten for a live contest), the winners once drawn, and the
# referral step when there is one. A query per step, per completion or per entrant
# raises it past this.
PARTICIPANT_PAGE_QUERIES = 11


async def test_a_participant_s_contest_page_reads_a_bounded_number_of_statements(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("player")
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with browser(app, language="en") as player:
        await sign_in(player, mailbox, address)
        person = await Participant.get(email=address)
        entry = await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
        with counting_queries() as few:
            assert (await player.get(f"/c/{contest.slug}")).status_code == 200
        await _more_steps(contest, 3)
        await _entrants_with_progress(contest, 5)
        for step in await Step.filter(contest=contest).order_by("position", "id"):
            await entries.record_completion(entry, step, utcnow(), links=LINKS)
        with counting_queries() as many:
            page = await player.get(f"/c/{contest.slug}")
        assert page.status_code == 200
        assert "You have done every required step" in page.text
    assert 0 < few.count <= PARTICIPANT_PAGE_QUERIES, few.statements
    assert few.count == many.count, many.statements
