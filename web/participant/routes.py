"""The participant's pages: contests, entering, steps, progress and the draw."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from contests import steps as step_rules
from contests.clock import utcnow
from contests.entries import enter, entry_of, progress
from contests.errors import N_, NotFound
from contests.lifecycle import accepting_entries
from contests.models import Contest, ContestStatus, Draw, Entry, Prize, Step, Winner
from contests.steps import visit_link_token
from oauth.identities import identities_of
from web import forms
from web.ratelimit import rate_limit
from web.rendering import page, redirect
from web.session import checked_form, flash, request_locale, require_viewer, viewer
from web.social import account_csp, providers
from web.state import app_state

PUBLIC = (ContestStatus.SCHEDULED, ContestStatus.LIVE, ContestStatus.CLOSED, ContestStatus.DRAWN)


async def _contest(slug: str) -> Contest:
    contest = await Contest.filter(slug=slug, status__in=PUBLIC).prefetch_related("brand").first()
    if contest is None:
        raise NotFound(N_("This contest does not exist or is not public yet."), "contest_not_found")
    return contest


async def home(request: Request) -> Response:
    running = await (
        Contest.filter(status__in=[ContestStatus.SCHEDULED, ContestStatus.LIVE])
        .prefetch_related("brand")
        .order_by("ends_at")
    )
    # Finished contests only grow in number: the page shows the latest few.
    finished = await (
        Contest.filter(status__in=[ContestStatus.CLOSED, ContestStatus.DRAWN])
        .prefetch_related("brand")
        .order_by("-closed_at")
        .limit(10)
    )
    now = utcnow()
    return await page(
        request,
        "participant/home.html",
        open_now=[c for c in running if accepting_entries(c, now)],
        upcoming=[c for c in running if c.status is ContestStatus.SCHEDULED],
        finished=finished,
    )


async def contest_page(request: Request) -> Response:
    contest = await _contest(request.path_params["slug"])
    participant = await viewer(request)
    entry = await entry_of(contest, participant)
    state = app_state(request)
    tokens = state.tokens
    mine = await progress(entry) if entry else None
    links = (
        {
            row.step.id: f"/go/{visit_link_token(tokens, entry, row.step)}"
            for row in mine.steps
            if row.unlocked and not row.done
        }
        if entry and mine
        else {}
    )
    all_steps = await Step.filter(contest=contest).order_by("position", "id")
    winners = (
        await Winner.filter(contest=contest).prefetch_related("entry", "prize").order_by("rank")
    )
    my_win = next((w for w in winners if entry and w.entry.id == entry.id), None)
    return await page(
        request,
        "participant/contest.html",
        contest=contest,
        prizes=await Prize.filter(contest=contest).order_by("position"),
        all_steps=all_steps,
        entry=entry,
        progress=mine,
        links=links,
        open=accepting_entries(contest, utcnow()),
        winners=winners,
        my_win=my_win,
    )


async def enter_contest(request: Request) -> Response:
    slug = request.path_params["slug"]
    request.state.back = f"/c/{slug}"
    participant = await require_viewer(request)
    form = await checked_form(request)
    contest = await _contest(slug)
    await enter(
        contest,
        participant,
        consented=form.get("consent") == "yes",
        locale=request_locale(request),
        now=utcnow(),
    )
    flash(
        request,
        N_("You're in, %(name)s! Here is your first clue."),
        "success",
        name=participant.display_name or "",
    )
    return redirect(f"/c/{slug}#steps")


async def go(request: Request) -> Response:
    """A step link: checked, then on to the brand's page with a visit token."""
    state = app_state(request)
    target = await step_rules.start_visit(
        state.tokens,
        request.path_params["token"],
        max_age=state.settings.visit_link_hours * 3600,
        now=utcnow(),
    )
    # The target was checked against the brand's own domains: not an open redirect.
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


async def submit_code(request: Request) -> Response:
    slug = request.path_params["slug"]
    request.state.back = f"/c/{slug}#steps"
    participant = await require_viewer(request)
    form = await checked_form(request)
    contest = await _contest(slug)
    entry = await entry_of(contest, participant)
    step = await Step.filter(contest=contest, public_id=request.path_params["step"]).first()
    if entry is None or step is None:
        raise NotFound(N_("Enter the contest first, then type the code."), "no_entry")
    state = app_state(request)
    rule = state.settings.code_attempt_limit
    await rate_limit(request, rule, "code", entry.public_id, step.public_id)
    right = await step_rules.submit_code(entry, step, forms.text(form, "code", 200), utcnow())
    if right:
        flash(request, N_("Well found! “%(step)s” is done."), "success", step=step.title)
    else:
        flash(request, N_("That is not the code. Look again, it is on the brand's page."), "error")
    return redirect(f"/c/{slug}#step-{step.public_id}")


async def draw_page(request: Request) -> Response:
    contest = await _contest(request.path_params["slug"])
    record = await Draw.filter(contest=contest).first()
    participant = await viewer(request)
    entry = await entry_of(contest, participant)
    in_list = bool(entry and record and any(p == entry.public_id for p, _ in record.frozen_list))
    return await page(
        request,
        "participant/draw.html",
        contest=contest,
        draw=record,
        entry=entry,
        in_list=in_list,
        certificate_json=json.dumps(record.certificate, indent=2)
        if record and record.certificate
        else "",
    )


async def draw_json(request: Request) -> Response:
    contest = await _contest(request.path_params["slug"])
    record = await Draw.filter(contest=contest).first()
    if record is None or record.certificate is None:
        raise NotFound(N_("The draw has not happened yet."), "not_drawn")
    return JSONResponse(
        record.certificate,
        headers={"Content-Disposition": f'attachment; filename="{contest.slug}-draw.json"'},
    )


async def my_account(request: Request) -> Response:
    participant = await require_viewer(request)
    entries = (
        await Entry.filter(participant=participant).prefetch_related("contest").order_by("-id")
    )
    rows = [(e, await progress(e)) for e in entries]
    response = await page(
        request,
        "participant/account.html",
        rows=rows,
        identities=await identities_of(participant),
        providers=providers(request),
    )
    response.headers["Content-Security-Policy"] = account_csp(request)
    return response


routes = [
    Route("/", home, name="home"),
    Route("/me", my_account, name="account"),
    Route("/c/{slug:slug}", contest_page, name="contest"),
    Route("/c/{slug:slug}/enter", enter_contest, methods=["POST"], name="enter"),
    Route("/c/{slug:slug}/code/{step:pid}", submit_code, methods=["POST"], name="code"),
    Route("/c/{slug:slug}/draw", draw_page, name="draw"),
    Route("/c/{slug:slug}/draw.json", draw_json, name="draw_json"),
    Route("/go/{token}", go, name="go"),
]
