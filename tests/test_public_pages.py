"""The pages every signed-out visitor sees alike: no cookie, kept a few seconds, shareable
by a cache in front, and never older than the last change made in the console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contests import entries
from contests.clock import utcnow
from contests.models import Contest, Participant, Step
from contests.settings import Settings
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    browser,
    csrf,
    email,
    live_contest,
    marketer_console,
    page_text,
    sign_in,
)
from tests.support.queries import counting_queries
from web.app import create_app

KEPT_SECONDS = 300


class Clock:
    """The page cache's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def kept(settings: Settings) -> AsyncIterator[tuple[Any, Clock]]:
    """An app that keeps public pages (the shared test app renders every request)."""
    application = create_app(
        settings.model_copy(update={"public_page_seconds": KEPT_SECONDS}), manage_database=False
    )
    clock = Clock()
    application.state.gymkana.public_pages.clock = clock
    async with application.router.lifespan_context(application):
        yield application, clock


def _shareable(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers
    assert "cookie" not in response.headers.get("vary", "").lower()
    assert response.headers["cache-control"] == f"public, max-age=0, s-maxage={KEPT_SECONDS}"
    assert response.headers["vary"] == "Accept-Language"


async def test_a_signed_out_visitor_gets_no_cookie_and_a_page_a_cache_may_share(
    kept: tuple[Any, Clock],
) -> None:
    app, _ = kept
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language="en") as visitor:
        for path in (f"/c/{contest.slug}", "/"):
            first = await visitor.get(path)
            _shareable(first)
            again = await visitor.get(path)
            _shareable(again)
            assert again.text == first.text
        landing = await visitor.get(f"/c/{contest.slug}")
    # Nothing to post on it, so no CSRF token: taking part starts with a link.
    assert "csrf_token" not in landing.text
    assert "Sign in to take part" in landing.text
    assert landing.headers["content-security-policy"].startswith("default-src 'self'")


async def test_the_kept_page_is_in_the_visitor_s_language(kept: tuple[Any, Clock]) -> None:
    app, _ = kept
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language="en") as english, browser(app, language="es") as spanish:
        for _ in range(2):
            assert "Sign in to take part" in page_text(await english.get(f"/c/{contest.slug}"))
            assert "Entra para participar" in page_text(await spanish.get(f"/c/{contest.slug}"))


async def test_choosing_a_language_is_remembered_and_makes_the_page_private(
    kept: tuple[Any, Clock],
) -> None:
    app, _ = kept
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language="en") as visitor:
        chosen = await visitor.get(f"/c/{contest.slug}?lang=es")
        assert "Entra para participar" in page_text(chosen)
        assert "set-cookie" in chosen.headers
        assert chosen.headers["cache-control"] == "private, no-cache"
        later = await visitor.get(f"/c/{contest.slug}")
    assert "Entra para participar" in page_text(later)
    assert later.headers["cache-control"] == "private, no-cache"


async def test_a_kept_page_is_rendered_again_once_it_expires(kept: tuple[Any, Clock]) -> None:
    app, clock = kept
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language="en") as visitor:
        before = page_text(await visitor.get(f"/c/{contest.slug}"))
        assert "0 people take part" in before
        # What another process (or an entrant) changes is not seen before the copy expires...
        await Contest.filter(id=contest.id).update(title="Renamed elsewhere", entry_count=3)
        assert page_text(await visitor.get(f"/c/{contest.slug}")) == before
        clock.now += KEPT_SECONDS - 1
        assert page_text(await visitor.get(f"/c/{contest.slug}")) == before
        # ...and is, at once, after.
        clock.now += 2
        after = page_text(await visitor.get(f"/c/{contest.slug}"))
    assert "Renamed elsewhere" in after
    assert "3 people take part" in after


async def test_a_console_change_shows_at_once(
    kept: tuple[Any, Clock], worker: Any, mailbox: Mailbox
) -> None:
    app, _ = kept
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    step = await Step.filter(contest=contest).order_by("position", "id").first()
    assert step is not None
    async with browser(app, language="en") as visitor:
        assert "Ride the shiny bike" not in page_text(await visitor.get(f"/c/{contest.slug}"))
        async with marketer_console(app, mailbox, address) as console:
            path = f"/console/{brand.slug}/contests/{contest.id}"
            edited = await console.post(
                f"{path}/steps/{step.id}",
                data={
                    "csrf_token": await csrf(console, path),
                    "title": "Ride the shiny bike",
                    "clue": step.clue,
                },
            )
            assert "Step updated." in await after_redirect(console, edited)
        shown = await visitor.get(f"/c/{contest.slug}")
    _shareable(shown)
    assert "Ride the shiny bike" in page_text(shown)


async def test_a_participant_gets_their_own_page_and_visitors_never_see_it(
    kept: tuple[Any, Clock], worker: Any, mailbox: Mailbox
) -> None:
    app, _ = kept
    contest = await live_contest((await brand_with_marketer())[0])
    address = email("player")
    async with browser(app, language="en") as visitor, browser(app, language="en") as player:
        assert "Sign in to take part" in page_text(await visitor.get(f"/c/{contest.slug}"))
        await sign_in(player, mailbox, address)
        person = await Participant.get(email=address)
        await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
        mine = await player.get(f"/c/{contest.slug}")
        assert mine.headers["cache-control"] == "private, no-cache"
        assert "cookie" in mine.headers["vary"].lower()
        assert 'data-testid="progress"' in mine.text
        theirs = await visitor.get(f"/c/{contest.slug}")
    _shareable(theirs)
    assert 'data-testid="progress"' not in theirs.text
    assert "Sign in to take part" in page_text(theirs)


async def test_a_kept_page_reads_nothing_from_the_database(kept: tuple[Any, Clock]) -> None:
    app, _ = kept
    contest = await live_contest((await brand_with_marketer())[0])
    async with browser(app, language="en") as visitor:
        with counting_queries() as first:
            assert (await visitor.get(f"/c/{contest.slug}")).status_code == 200
        with counting_queries() as crowd:
            for _ in range(20):
                assert (await visitor.get(f"/c/{contest.slug}")).status_code == 200
    assert first.count > 0
    assert crowd.count == 0, crowd.statements
