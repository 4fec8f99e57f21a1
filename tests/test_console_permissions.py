"""Every console route against every role: the role it needs gets through, a lower one
gets a clear 403, and a marketer of another brand finds nothing (404).

The table below is the one place that says which role each route needs: a console
route added without an entry fails ``test_every_console_route_is_in_the_table``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from contests import brands, conversations
from contests.clock import utcnow
from contests.models import Brand, Contest, MarketerRole, Prize, Step
from tests.conftest import Mailbox
from tests.factories import (
    added_step,
    brand_and_marketer_address,
    csrf,
    email,
    entrant,
    live_contest,
    marketer_console,
)
from web.app import app_routes

VIEWER, EDITOR, OWNER = MarketerRole.VIEWER, MarketerRole.EDITOR, MarketerRole.OWNER

# Route name -> the role it needs. Routes under /console/ only; "/console" itself (the
# list of one's brands, and creating one) belongs to no brand and is tested on its own.
NEEDED: dict[str, MarketerRole] = {
    "console_brand": VIEWER,
    "console_save_domains": OWNER,
    "console_save_look": OWNER,
    "console_invite": OWNER,
    "console_change_role": OWNER,
    "console_remove_member": OWNER,
    "console_save_time_zone": VIEWER,
    "console_save_signature": VIEWER,
    "console_audit": VIEWER,
    "console_outbox": VIEWER,
    "console_new_contest": EDITOR,
    "console_create_contest": EDITOR,
    "console_contest": VIEWER,
    "console_add_prize": EDITOR,
    "console_add_step": EDITOR,
    "console_edit_step": EDITOR,
    "console_change_step": EDITOR,
    "console_delete_step": EDITOR,
    "console_move_step": EDITOR,
    "console_referral_leaderboard": EDITOR,
    "console_publish": EDITOR,
    "console_draw_randomness": EDITOR,
    "console_move_end": EDITOR,
    "console_close": EDITOR,
    "console_installation": VIEWER,
    "console_check_installation": EDITOR,
    "console_qr_svg": EDITOR,
    "console_qr_png": EDITOR,
    "console_qr_screen": EDITOR,
    "console_qr_screen_code": EDITOR,
    "console_qr_poster": EDITOR,
    "console_referral_qr": VIEWER,
    "console_edit_contest": VIEWER,
    "console_save_contest": EDITOR,
    "console_duplicate": EDITOR,
    "console_edit_prize": EDITOR,
    "console_delete_prize": EDITOR,
    "console_move_prize": EDITOR,
    "console_rules": VIEWER,
    "console_save_rules": EDITOR,
    "console_preview": VIEWER,
    "console_winners": VIEWER,
    "console_claim_form": EDITOR,
    "console_disqualify": EDITOR,
    "console_disqualify_post": EDITOR,
    "console_entrants": VIEWER,
    "console_export_entrants": EDITOR,
    "console_dashboard": VIEWER,
    "console_review": VIEWER,
    "console_review_disqualify": EDITOR,
    "console_review_disqualify_post": EDITOR,
    "console_clear": EDITOR,
    "console_answers": VIEWER,
    "console_reply": EDITOR,
    "console_wall": EDITOR,
    "console_inbox": VIEWER,
    "console_conversation": VIEWER,
    "console_answer": EDITOR,
    "console_assign": EDITOR,
    "console_mark_read": EDITOR,
    "console_opt_ins": VIEWER,
    "console_export_opt_ins": EDITOR,
}


def console_routes() -> list[Route]:
    return [
        route
        for route in app_routes()
        if isinstance(route, Route) and route.path.startswith("/console/")
    ]


def test_every_console_route_is_in_the_table() -> None:
    names = {route.name for route in console_routes()}
    missing = sorted(names - set(NEEDED))
    assert not missing, f"add these console routes to NEEDED with their role: {missing}"
    assert not set(NEEDED) - names, "NEEDED names routes that no longer exist"


@dataclass
class World:
    """A brand with one member of each role, a live contest with a qr step and an
    entrant, and the path parameters every console route can be given."""

    brand: Brand
    contest: Contest
    step: Step
    addresses: dict[MarketerRole, str]
    params: dict[str, Any]


async def _world() -> World:
    brand, owner = await brand_and_marketer_address()
    addresses = {OWNER: owner}
    for role in (EDITOR, VIEWER):
        addresses[role] = email(role.value)
        await brands.add_marketer(brand, addresses[role], role=role, actor="test", now=utcnow())
    # Someone the team routes can act on.
    bystander = await brands.add_marketer(
        brand, email("bystander"), role=VIEWER, actor="test", now=utcnow()
    )
    contest = await live_contest(brand)
    step = await added_step(contest, "qr", {}, required=False)
    entry = await entrant(contest)
    await entry.fetch_related("participant")
    assert entry.participant is not None
    message = await conversations.write_to_brand(
        entry.participant, brand, "¿Abrís el domingo?", now=utcnow()
    )
    params = {
        "brand": brand.slug,
        "contest": contest.id,
        "step": step.id,
        "member": bystander.id,
        "code": entry.referral_code,
        "format": "svg",
        "prize": (
            await Prize.filter(contest=contest).order_by("id").first().values_list("id", flat=True)
        ),
        # No draw yet: a winner's routes answer "no such winner" past the role check.
        "rank": 1,
        "entry": entry.id,
        "conversation": message.conversation_id,  # type: ignore[attr-defined]
        # No opinion step here: an answer's routes answer "no such answer" likewise.
        "answer": 1,
    }
    return World(brand, contest, step, addresses, params)


def _path(route: Route, params: dict[str, Any]) -> str:
    wanted = set(route.param_convertors)
    unknown = wanted - set(params)
    assert not unknown, f"{route.name}: give _world() a value for {sorted(unknown)}"
    return route.url_path_for(route.name, **{k: params[k] for k in wanted})


async def _try(client: httpx.AsyncClient, route: Route, path: str, token: str) -> int:
    if route.methods and "GET" in route.methods:
        return (await client.get(path)).status_code
    # A valid token and an empty form: what the role check answers, not the form's.
    return (await client.post(path, data={"csrf_token": token})).status_code


def _ordered(routes: list[Route]) -> list[Route]:
    # Reads first: a post may delete the step the reads need.
    return sorted(routes, key=lambda r: not (r.methods and "GET" in r.methods))


@pytest.mark.parametrize("role", [VIEWER, EDITOR, OWNER], ids=lambda r: r.value)
async def test_each_role_reaches_exactly_the_routes_it_may(
    app: Any, worker: Any, mailbox: Mailbox, role: MarketerRole
) -> None:
    world = await _world()
    wrong: list[str] = []
    async with marketer_console(app, mailbox, world.addresses[role]) as console:
        token = await csrf(console, f"/console/{world.brand.slug}")
        for route in _ordered(console_routes()):
            status = await _try(console, route, _path(route, world.params), token)
            allowed = role.allows(NEEDED[route.name])
            # Past the role check, an empty form may be refused on its own terms (a
            # 4xx with its message), never with the role's 403 nor a server error.
            if allowed and (status == 403 or status >= 500):
                wrong.append(f"{route.name}: {status}, expected the role to let it through")
            if not allowed and status != 403:
                wrong.append(f"{route.name}: {status}, expected 403")
    assert not wrong, wrong


async def test_a_marketer_of_another_brand_finds_none_of_its_routes(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    world = await _world()
    _, outsider = await brand_and_marketer_address()
    wrong: list[str] = []
    async with marketer_console(app, mailbox, outsider) as console:
        token = await csrf(console, "/console?new")
        for route in _ordered(console_routes()):
            status = await _try(console, route, _path(route, world.params), token)
            if status != 404:
                wrong.append(f"{route.name}: {status}")
    assert not wrong, wrong


async def test_a_visitor_not_signed_in_is_sent_to_sign_in_from_every_route(
    app: Any, client: httpx.AsyncClient
) -> None:
    world = await _world()
    wrong: list[str] = []
    for route in _ordered(console_routes()):
        path = _path(route, world.params)
        if route.methods and "GET" in route.methods:
            response = await client.get(path)
        else:
            response = await client.post(path, data={})
        if response.status_code != 303 or not response.headers["location"].startswith("/login"):
            wrong.append(f"{route.name}: {response.status_code}")
    assert not wrong, wrong
