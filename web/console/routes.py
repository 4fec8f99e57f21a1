"""The marketer's console: every route checks the marketer's role for the brand."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import authoring, beacon, claims, content, lifecycle, mail, publishing, rules, views
from contests.clock import utcnow
from contests.errors import GymkanaError
from contests.i18n import LOCALE_NAMES, translate
from contests.models import Contest, Draw, Marketer, Prize, Step, Winner
from contests.steps.registry import KINDS
from web.console.access import EDITOR, VIEWER, contest_for, role_for
from web.errors import status_of
from web.links import absolute
from web.rendering import page, path
from web.session import request_locale
from web.state import app_state


async def contest_detail(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    return await contest_page(request, role, await contest_for(request, role))


async def contest_page(
    request: Request,
    role: Marketer,
    contest: Contest,
    *,
    refused: str = "",
    typed: dict[str, Any] | None = None,
    error: GymkanaError | None = None,
) -> Response:
    """The contest's page; after a refused prize or step form, that form (``refused``
    names it: "add-prize", "prize-7", "add-quiz", "step-3", "words-3") open again with
    what the marketer ``typed`` and the message beside it."""
    now = utcnow()
    phase = lifecycle.phase(contest, now)
    prizes = await Prize.filter(contest=contest).order_by("position", "id")
    steps = await Step.filter(contest=contest).order_by("position", "id")
    record = await Draw.filter(contest=contest).first()
    return await page(
        request,
        "console/contest.html",
        status=status_of(error) if error else 200,
        refused=refused,
        kept={refused: typed or {}} if refused else {},
        error=translate(error.message, request_locale(request), **error.params) if error else "",
        brand=role.brand,
        role=role,
        # A viewer reads the page without the forms their role may not send.
        can_edit=role.role.allows(EDITOR),
        contest=contest,
        prizes=prizes,
        steps=steps,
        draw=record,
        # Between the close and the draw, what the draw waits for: its beacon round.
        beacon_wait=views.beacon_wait(contest, record),
        winners=await Winner.filter(contest=contest)
        .prefetch_related("entry__participant", "prize")
        .order_by("rank"),
        phase=phase,
        kinds=KINDS,
        completed=await authoring.completed_step_ids(contest) if not phase.draft else set(),
        public_url=absolute(request, "contest", slug=contest.slug),
        missing=content.missing(contest, prizes, steps),
        other_languages=content.others(contest.language),
        step_titles={step.id: step.title for step in steps},
        languages=LOCALE_NAMES,
        problems=await publishing.problems(contest, now) if phase.draft else [],
        rules_version=await rules.current(contest),
        preview_url=path(request, "console_preview", brand=role.brand.slug, contest=contest.id),
        shortfall=await claims.shortfall(contest),
        beacon_available=beacon.configured(app_state(request).settings, now) is not None,
    )


async def outbox(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    return await page(
        request,
        "console/outbox.html",
        brand=role.brand,
        role=role,
        messages=await mail.messages_for(role.brand),
    )


routes = [
    Route("/console/{brand:slug}/outbox", outbox, name="console_outbox"),
    Route("/console/{brand:slug}/contests/{contest:rowid}", contest_detail, name="console_contest"),
]
