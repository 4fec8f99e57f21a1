"""Code steps: the participant types the code found on the brand's page. It is matched
whatever the case and spacing, guessing is rate limited, and only entrants' forms count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from contests.models import Completion, Contest, Entry, Step
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    brand_with_marketer,
    browser,
    csrf,
    email,
    live_contest,
    sign_in,
    step_of,
)

CODE = "Aurora 2026"


@asynccontextmanager
async def _player(
    app: Any, mailbox: Mailbox, *, enter: bool = True
) -> AsyncIterator[tuple[httpx.AsyncClient, Contest, Step]]:
    """A signed-in participant (entered unless told otherwise) facing a code step."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, code=CODE)
    step = await step_of(contest, "code")
    async with browser(app, language="en") as player:
        await sign_in(player, mailbox, email("player"), f"/c/{contest.slug}")
        if enter:
            response = await player.post(
                f"/c/{contest.slug}/enter",
                data={"csrf_token": await csrf(player, f"/c/{contest.slug}"), "consent": "yes"},
            )
            assert response.status_code == 303
        yield player, contest, step


async def _type(
    player: httpx.AsyncClient, contest: Contest, step: Step, code: str, token: str | None = None
) -> httpx.Response:
    data = {"code": code}
    if token is not None:
        data["csrf_token"] = token
    return await player.post(f"/c/{contest.slug}/steps/{step.public_id}", data=data)


async def _done(contest: Contest, step: Step) -> bool:
    return await Completion.filter(entry__contest=contest, step=step).exists()


async def test_the_right_code_typed_with_other_case_and_spaces_completes_the_step(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _player(app, mailbox) as (player, contest, step):
        token = await csrf(player, f"/c/{contest.slug}")
        response = await _type(player, contest, step, "  aURORA   20 26 ", token)
        assert response.headers["location"] == f"/c/{contest.slug}#step-{step.public_id}"
        assert "Well found! “Find the code” is done." in await after_redirect(player, response)
    completion = await Completion.get(entry__contest=contest, step=step)
    assert completion.points == step.points


async def test_a_wrong_code_does_not_complete_the_step(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _player(app, mailbox) as (player, contest, step):
        token = await csrf(player, f"/c/{contest.slug}")
        for wrong in ("Aurora 2025", "Aurora", "Aurora 2026 extra"):
            response = await _type(player, contest, step, wrong, token)
            assert "That is not the code." in await after_redirect(player, response)
    assert not await _done(contest, step)


async def test_guessing_is_rate_limited_even_for_the_right_code(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _player(app, mailbox) as (player, contest, step):
        token = await csrf(player, f"/c/{contest.slug}")
        for attempt in range(10):
            response = await _type(player, contest, step, f"guess {attempt}", token)
            assert "That is not the code." in await after_redirect(player, response)
        eleventh = await _type(player, contest, step, CODE, token)
        assert eleventh.headers["location"] == f"/c/{contest.slug}#step-{step.public_id}"
        assert "Too many attempts. Wait a few minutes" in await after_redirect(player, eleventh)
    assert not await _done(contest, step)


async def test_the_limit_counts_per_entry_and_step(app: Any, worker: Any, mailbox: Mailbox) -> None:
    async with _player(app, mailbox) as (player, contest, step):
        token = await csrf(player, f"/c/{contest.slug}")
        for attempt in range(11):
            await _type(player, contest, step, f"guess {attempt}", token)
    async with _player(app, mailbox) as (other, other_contest, other_step):
        token = await csrf(other, f"/c/{other_contest.slug}")
        response = await _type(other, other_contest, other_step, CODE, token)
        assert "Well found!" in await after_redirect(other, response)


async def test_a_code_for_a_contest_not_entered_is_refused_with_a_clear_message(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _player(app, mailbox, enter=False) as (player, contest, step):
        token = await csrf(player, f"/c/{contest.slug}")
        response = await _type(player, contest, step, CODE, token)
        assert response.headers["location"] == f"/c/{contest.slug}#steps"
        assert "Enter the contest first, then do the steps." in await after_redirect(
            player, response
        )
    assert not await Entry.filter(contest=contest).exists()
    assert not await _done(contest, step)


async def test_a_code_for_a_step_of_another_contest_is_refused(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    elsewhere = await step_of(await live_contest(brand, code=CODE), "code")
    async with _player(app, mailbox) as (player, contest, _step):
        token = await csrf(player, f"/c/{contest.slug}")
        response = await _type(player, contest, elsewhere, CODE, token)
        assert "Enter the contest first" in await after_redirect(player, response)
    assert not await Completion.filter(step=elsewhere).exists()


async def test_a_code_without_the_csrf_token_records_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _player(app, mailbox) as (player, contest, step):
        for token in (None, "forged-token"):
            response = await _type(player, contest, step, CODE, token)
            assert "This form has expired (or was sent from another site)." in (
                await after_redirect(player, response)
            )
    assert not await _done(contest, step)


async def test_a_code_from_someone_not_signed_in_records_nothing(
    client: httpx.AsyncClient,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, code=CODE)
    step = await step_of(contest, "code")
    response = await _type(client, contest, step, CODE, "whatever")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert not await _done(contest, step)


async def test_signing_in_after_a_code_form_leads_back_to_the_contest_page(
    client: httpx.AsyncClient,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, code=CODE)
    step = await step_of(contest, "code")
    response = await _type(client, contest, step, CODE, "whatever")
    next_path = parse_qs(urlsplit(response.headers["location"]).query)["next"][0]
    assert (await client.get(next_path)).status_code == 200
