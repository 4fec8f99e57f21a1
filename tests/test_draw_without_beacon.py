"""A contest drawn without a public beacon only by its organiser's explicit choice,
made in the console before publishing, warned about, and kept in the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from contests import authoring, beacon, publishing
from contests.clock import utcnow
from contests.models import AuditLog, Brand, Contest, ContestStatus
from contests.settings import Settings
from tests.conftest import Mailbox
from tests.factories import (
    added_step,
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    draft_contest,
    marketer_console,
    page_text,
)
from web.app import create_app


def _path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}"


async def _ready(brand: Brand) -> Contest:
    """A draft with what publishing needs: a prize and a step."""
    contest = await draft_contest(brand)
    await authoring.add_prize(
        contest, name="A mug", description="", quantity=1, actor="test", now=utcnow()
    )
    await added_step(contest, "code", {"code": "MUG-1"})
    return contest


@asynccontextmanager
async def _with_a_beacon(settings: Settings) -> AsyncIterator[Any]:
    """The application of a deployment whose contests name a beacon round: the demo's
    own, which needs no network."""
    application = create_app(
        settings.model_copy(update={"draw_randomness": beacon.DEMO}), manage_database=False
    )
    async with application.router.lifespan_context(application):
        yield application


async def _post(console: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    token = await csrf(console, path.rsplit("/", 1)[0])
    return await console.post(path, data={"csrf_token": token, **data})


async def test_a_draft_draws_with_the_beacon_unless_its_organiser_chooses_otherwise(
    settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    chosen, default = await _ready(brand), await _ready(brand)
    async with _with_a_beacon(settings) as app, marketer_console(app, mailbox, address) as console:
        page = page_text(await console.get(_path(brand, chosen)))
        # Off by default, with the warning beside the box.
        assert 'data-testid="with-beacon"' in page
        assert 'name="without_beacon" value="on" aria-describedby="randomness-warning">' in page
        assert "could steer who wins" in page

        saved = await _post(console, _path(brand, chosen) + "/randomness", without_beacon="on")
        said = await after_redirect(console, saved)
        assert "will be drawn without a public beacon" in said
        assert 'data-testid="without-beacon"' in said
        assert "checked>" in said[said.index('name="without_beacon"') :][:120]

        for contest in (chosen, default):
            published = await _post(console, _path(brand, contest) + "/publish", confirm="on")
            assert published.status_code == 303, published.text
        assert 'data-testid="steerable"' in page_text(await console.get(_path(brand, chosen)))
        public = page_text(await console.get(f"/c/{chosen.slug}"))
        assert 'data-testid="steerable"' in public

        # Once published, how the draw is made stays as it was committed.
        late = await _post(console, _path(brand, default) + "/randomness", without_beacon="on")
        assert "can no longer change" in await after_redirect(console, late)

    stored = {c.id: await Contest.get(id=c.id) for c in (chosen, default)}
    assert stored[chosen.id].status is not ContestStatus.DRAFT
    assert stored[chosen.id].beacon is None
    named = stored[default.id].beacon
    assert named is not None and named["source"] == beacon.DEMO
    assert stored[default.id].draw_without_beacon is False
    choices = await AuditLog.filter(action="contest.draw_randomness").filter(
        target__in=[chosen.slug, default.slug]
    )
    assert [(c.actor, c.target, c.data) for c in choices] == [
        (address, chosen.slug, {"without_beacon": True})
    ]


async def test_the_choice_can_be_taken_back_before_publishing(database_url: Any) -> None:
    brand, marketer = await brand_with_marketer()
    contest = await _ready(brand)
    for without in (True, True, False):
        await publishing.choose_beacon(contest, without=without, actor=marketer.email, now=utcnow())
    await publishing.publish(
        await Contest.get(id=contest.id).prefetch_related("brand"),
        actor=marketer.email,
        now=utcnow(),
        network=beacon.demo_network(utcnow()),
    )
    assert (await Contest.get(id=contest.id)).beacon is not None
    # Choosing what is already chosen records nothing.
    recorded = await AuditLog.filter(
        action="contest.draw_randomness", target=contest.slug
    ).order_by("id")
    assert [entry.data for entry in recorded] == [
        {"without_beacon": True},
        {"without_beacon": False},
    ]


async def test_publishing_names_no_round_for_a_contest_chosen_without_one(
    database_url: Any,
) -> None:
    brand, marketer = await brand_with_marketer()
    contest = await _ready(brand)
    await publishing.choose_beacon(contest, without=True, actor=marketer.email, now=utcnow())
    # Loaded before the choice: publishing reads it again.
    stale = await Contest.get(id=contest.id).prefetch_related("brand")
    stale.draw_without_beacon = False
    await publishing.publish(stale, actor="test", now=utcnow(), network=beacon.quicknet())
    stored = await Contest.get(id=contest.id)
    assert stored.status is not ContestStatus.DRAFT and stored.beacon is None


async def test_where_the_deployment_draws_without_a_beacon_the_page_says_so_and_asks_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _ready(brand)
    async with marketer_console(app, mailbox, address) as console:
        page = page_text(await console.get(_path(brand, contest)))
    assert "This installation draws every contest without a public beacon" in page
    assert 'name="without_beacon"' not in page
