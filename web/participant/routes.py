"""The participant's pages: contests, entering, steps, progress and the draw."""

from __future__ import annotations

import json

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from contests import (
    chainlog,
    conversations,
    jobs,
    optin,
    referrals,
    signals,
    views,
)
from contests.clock import utcnow
from contests.content import in_language
from contests.entries import enter, entry_of, progress_of_entries
from contests.errors import N_, NotFound
from contests.lifecycle import RUNNING, accepting_entries
from contests.models import Contest, ContestStatus, Entry, Step
from contests.steps import completion, visit
from contests.steps.registry import kind_of
from contests.urls import host_of
from oauth.identities import identities_of
from web import forms
from web.links import links
from web.middleware import page_csp, site_sources
from web.participant.contest_page import render_contest
from web.participant.public_pages import public_or_personal
from web.queue import enqueue
from web.ratelimit import client_address, rate_limit
from web.rendering import local_path, page, path, redirect
from web.session import (
    answer_at,
    checked_form,
    device_id,
    flash,
    request_locale,
    require_viewer,
    viewer,
)
from web.signin.providers import account_csp, providers
from web.state import app_state


async def home(request: Request) -> Response:
    return await public_or_personal(request, lambda: _home(request))


async def _home(request: Request) -> Response:
    running = await Contest.filter(status__in=RUNNING).prefetch_related("brand").order_by("ends_at")
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
    slug = request.path_params["slug"]
    return await public_or_personal(request, lambda: _contest_page(request, slug))


async def _contest_page(request: Request, slug: str) -> Response:
    contest = await views.public_contest(slug)
    response = await render_contest(request, contest, await viewer(request))
    response.headers["Content-Security-Policy"] = brand_form_csp(contest)
    return response


async def enter_contest(request: Request) -> Response:
    """Enter, then on to the contest's steps, or back to the page that offered entering
    on the way (``?next=``, a path on this site: a scanned QR code's page)."""
    slug = request.path_params["slug"]
    on_the_way = local_path(request.query_params.get("next"), "")
    if on_the_way:
        request.state.back = on_the_way
    else:
        answer_at(request, path(request, "contest", slug=slug), "steps")
    participant = await require_viewer(request)
    form = await checked_form(request)
    contest = await views.public_contest(slug)
    tokens = app_state(request).tokens
    await enter(
        contest,
        participant,
        consented=form.get("consent") == "yes",
        locale=request_locale(request),
        now=utcnow(),
        origin=signals.origin_of(
            tokens,
            device=device_id(request),
            address=request.client.host if request.client else None,
        ),
        arrival=referrals.arrival_for(
            tokens, request.cookies.get(referrals.ARRIVAL_COOKIE), contest.slug
        ),
        declared_age=_declared_age(form) if contest.min_age else None,
        declared_country=forms.text(form, "country", 2) or None if contest.countries else None,
    )
    if form.get("hear_from_brand") == "yes":
        await optin.opt_in(
            participant,
            contest.brand,
            locale=request_locale(request),
            now=utcnow(),
            contest=contest,
        )
    name = participant.display_name or ""
    if on_the_way:
        flash(request, N_("You're in, %(name)s!"), "success", name=name)
        return redirect(on_the_way)
    flash(
        request,
        N_("You're in, %(name)s! Here is your first clue."),
        "success",
        target="steps",
        name=name,
    )
    return redirect(request.state.back)


def _declared_age(form: FormData) -> int | None:
    """The age typed when entering: none when left empty, refused later when not a number."""
    raw = forms.text(form, "age", 3)
    if not raw:
        return None
    return int(raw) if raw.isdigit() else -1


async def go(request: Request) -> Response:
    """A step link: checked, then on to the brand's page with a visit token. When the
    click itself counts, a page asks for it: a GET changes nothing."""
    state = app_state(request)
    start = await visit.start_visit(
        state.tokens,
        request.path_params["token"],
        max_age=state.settings.visit_link_hours * 3600,
        now=utcnow(),
    )
    if start.counts_click:
        response = await page(
            request,
            "participant/go.html",
            step=start.step,
            contest=start.contest,
            site=host_of(start.target),
            token=request.path_params["token"],
        )
        response.headers["Content-Security-Policy"] = brand_form_csp(start.contest)
        return response
    return _to_brand_page(start.target)


async def follow_step_link(request: Request) -> Response:
    """A step link followed from a form: on a step that counts the click, the click is
    kept for a worker to verify."""
    state = app_state(request)
    await checked_form(request)
    start = await visit.start_visit(
        state.tokens,
        request.path_params["token"],
        max_age=state.settings.visit_link_hours * 3600,
        now=utcnow(),
        follow=True,
    )
    if start.evidence is not None:
        await enqueue(request, jobs.VERIFY_EVIDENCE, start.evidence.id)
    return _to_brand_page(start.target)


def _to_brand_page(target: str) -> Response:
    # The target was checked against the brand's own domains: not an open redirect.
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def brand_form_csp(contest: Contest) -> str:
    """The page policy, letting a step's form lead on to the brand's site."""
    return page_csp(site_sources(contest.brand.site_domains))


async def submit_step(request: Request) -> Response:
    """A step done from the contest page, whatever its kind (a code, an answer)."""
    slug = request.path_params["slug"]
    # Whatever answer or refusal follows is shown in the step's own block.
    target = f"step-{request.path_params['step']}"
    back = answer_at(request, path(request, "contest", slug=slug), target)
    participant = await require_viewer(request)
    form = await checked_form(request)
    contest = await views.public_contest(slug)
    entry = await entry_of(contest, participant)
    step = await Step.filter(contest=contest, public_id=request.path_params["step"]).first()
    if entry is None or step is None:
        raise NotFound(N_("Enter the contest first, then do the steps."), "no_entry")
    settings = app_state(request).settings
    await rate_limit(request, settings.code_attempt_limit, "step", entry.public_id, step.public_id)
    # One device trying answers or codes through many accounts.
    await rate_limit(
        request, settings.step_client_limit, "step-client", client_address(request), step.public_id
    )
    kind = kind_of(step)
    fields = {
        name: forms.text(form, name, size, multiline=name in kind.multiline_fields)
        for name, size in kind.submission_fields.items()
    }
    if await completion.submit(entry, step, fields, utcnow(), links=links(request)):
        title = in_language(step, "title", request_locale(request), contest.language)
        flash(request, kind.done_message, "success", target=target, step=title)
    else:
        flash(request, completion.wrong_answer(step), "error", target=target)
    return redirect(back)


async def draw_page(request: Request) -> Response:
    contest = await views.public_contest(request.path_params["slug"])
    view = await views.draw_view(contest, await viewer(request))
    record = view.draw
    return await page(
        request,
        "participant/draw.html",
        contest=contest,
        brand_look=contest.brand,
        draw=record,
        entry=view.entry,
        in_list=view.in_list,
        round_at=view.round_at,
        beacon_state=view.beacon_state,
        certificate_json=json.dumps(record.certificate, indent=2)
        if record and record.certificate
        else "",
    )


async def draw_json(request: Request) -> Response:
    contest = await views.public_contest(request.path_params["slug"])
    return StreamingResponse(
        await views.certificate(contest),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{contest.slug}-draw.json"'},
    )


async def list_txt(request: Request) -> Response:
    contest = await views.public_contest(request.path_params["slug"])
    return StreamingResponse(
        await chainlog.list_text(contest),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{contest.slug}-list.txt"'},
    )


async def chain_txt(request: Request) -> Response:
    contest = await views.public_contest(request.path_params["slug"])
    return StreamingResponse(
        await chainlog.chain_lines(contest),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{contest.slug}-chain.txt"'},
    )


async def my_account(request: Request) -> Response:
    participant = await require_viewer(request)
    entries = await Entry.filter(participant=participant).select_related("contest").order_by("-id")
    rows = list(zip(entries, await progress_of_entries(entries), strict=True))
    response = await page(
        request,
        "participant/account.html",
        rows=rows,
        writable=await conversations.brands_to_write(participant),
        opt_ins=await optin.opt_ins_of(participant),
        threads={t.conversation.brand_id: t for t in await conversations.threads_of(participant)},  # type: ignore[attr-defined]
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
    Route("/c/{slug:slug}/steps/{step:pid}", submit_step, methods=["POST"], name="step"),
    Route("/c/{slug:slug}/draw", draw_page, name="draw"),
    Route("/c/{slug:slug}/draw.json", draw_json, name="draw_json"),
    Route("/c/{slug:slug}/list.txt", list_txt, name="list_txt"),
    Route("/c/{slug:slug}/chain.txt", chain_txt, name="chain_txt"),
    Route("/go/{token}", go, name="go"),
    Route("/go/{token}", follow_step_link, methods=["POST"], name="follow_step_link"),
]
