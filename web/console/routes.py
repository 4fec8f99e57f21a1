"""The marketer's console: every route checks the marketer's role for the brand."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import audit, authoring, closing, jobs, lifecycle, mail
from contests.authoring import ContestDraft, StepDraft
from contests.brands import brands_of, invite_marketer, team, update_domains
from contests.clock import utcnow
from contests.errors import N_, InvalidInput, NotFound
from contests.models import Contest, Draw, Marketer, Prize, Step, Winner
from contests.steps.registry import KINDS, kind_named
from web import forms
from web.console.access import EDITOR, OWNER, VIEWER, actor, contest_for, role_for
from web.links import absolute, links
from web.queue import enqueue
from web.rendering import page, path, redirect
from web.session import checked_form, flash, request_locale, require_viewer
from web.snippet.routes import snippet_tag
from web.state import app_state


async def console_home(request: Request) -> Response:
    brands = await brands_of(await require_viewer(request))
    if len(brands) == 1:
        return redirect(path(request, "console_brand", brand=brands[0].slug))
    return await page(request, "console/brands.html", brands=brands)


async def brand_home(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contests = await Contest.filter(brand=role.brand).order_by("-id")
    return await page(
        request,
        "console/brand.html",
        brand=role.brand,
        contests=contests,
        snippet=snippet_tag(request),
        app_origin=app_state(request).settings.origin,
        audit_log=await audit.recent(role.brand, 20),
        team=await team(role.brand),
    )


async def invite(request: Request) -> Response:
    role = await role_for(request, OWNER)
    request.state.back = path(request, "console_brand", brand=role.brand.slug) + "#team"
    form = await checked_form(request)
    marketer, message = await invite_marketer(
        role.brand,
        forms.text(form, "email", 254),
        name=forms.person_name(form, "name", 120),
        invited_by=role,
        links=links(request),
        locale=request_locale(request),
        now=utcnow(),
    )
    await enqueue(request, jobs.SEND_EMAIL, message.id)
    flash(
        request,
        N_("%(email)s is invited: we have emailed them how to sign in."),
        "success",
        email=marketer.email,
    )
    return redirect(path(request, "console_brand", brand=role.brand.slug) + "#team")


async def save_domains(request: Request) -> Response:
    role = await role_for(request, OWNER)
    request.state.back = path(request, "console_brand", brand=role.brand.slug)
    form = await checked_form(request)
    domains = forms.text(form, "domains", multiline=True).replace(",", "\n").splitlines()
    await update_domains(role.brand, domains, actor=actor(role), now=utcnow())
    flash(request, N_("Domains saved."), "success")
    return redirect(path(request, "console_brand", brand=role.brand.slug))


async def new_contest(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    return await page(request, "console/contest_new.html", brand=role.brand)


async def create_contest(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    request.state.back = path(request, "console_new_contest", brand=role.brand.slug)
    form = await checked_form(request)
    zone = forms.text(form, "timezone", 64) or "Europe/Madrid"
    contest = await authoring.create_contest(
        role.brand,
        ContestDraft(
            title=forms.text(form, "title", 160),
            description=forms.text(form, "description", 5000, multiline=True),
            starts_at=forms.local_datetime(form, "starts_at", zone),
            ends_at=forms.local_datetime(form, "ends_at", zone),
            timezone=zone,
            alternates=forms.integer(form, "alternates", 2),
        ),
        actor=actor(role),
        now=utcnow(),
    )
    flash(request, N_("Contest created. Now add its prizes and steps."), "success")
    return redirect(path(request, "console_contest", brand=role.brand.slug, contest=contest.id))


async def contest_detail(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    phase = lifecycle.phase(contest, utcnow())
    return await page(
        request,
        "console/contest.html",
        brand=role.brand,
        contest=contest,
        prizes=await Prize.filter(contest=contest).order_by("position"),
        steps=await Step.filter(contest=contest).order_by("position", "id"),
        draw=await Draw.filter(contest=contest).first(),
        winners=await Winner.filter(contest=contest)
        .prefetch_related("entry__participant", "prize")
        .order_by("rank"),
        phase=phase,
        kinds=KINDS,
        completed=await authoring.completed_step_ids(contest) if not phase.draft else set(),
        public_url=absolute(request, "contest", slug=contest.slug),
    )


def _back_to(request: Request, role: Marketer, contest: Contest, anchor: str = "") -> str:
    return path(request, "console_contest", brand=role.brand.slug, contest=contest.id) + anchor


async def _contest_form(request: Request, anchor: str) -> tuple[Marketer, Contest, FormData]:
    """The role, the contest and the posted form of a change to one contest; a refusal
    goes back to the contest page at ``anchor`` with its message."""
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    request.state.back = _back_to(request, role, contest, anchor)
    return role, contest, await checked_form(request)


async def add_prize(request: Request) -> Response:
    role, contest, form = await _contest_form(request, "#prizes")
    await authoring.add_prize(
        contest,
        name=forms.text(form, "name", 160),
        description=forms.text(form, "description", 2000, multiline=True),
        quantity=forms.integer(form, "quantity", 1),
        actor=actor(role),
        now=utcnow(),
    )
    flash(request, N_("Prize added."), "success")
    return redirect(_back_to(request, role, contest, "#prizes"))


def _step_draft(form: FormData, kind_name: str) -> StepDraft:
    """A step as its form describes it, with the kind's own fields."""
    kind = kind_named(kind_name)
    return StepDraft(
        kind=kind.name,
        title=forms.text(form, "title", 160),
        clue=forms.text(form, "clue", 2000, multiline=True),
        points=forms.integer(form, "points", 1),
        required=forms.checkbox(form, "required"),
        unlocks_after=forms.row_id(form, "unlocks_after"),
        settings={
            name: forms.text(form, name, size, multiline=name in kind.multiline_fields)
            for name, size in kind.form_fields.items()
        },
    )


async def add_step(request: Request) -> Response:
    role, contest, form = await _contest_form(request, "#steps")
    draft = _step_draft(form, forms.text(form, "kind", 16))
    await authoring.add_step(contest, draft, actor=actor(role), now=utcnow())
    flash(request, N_("Step added."), "success")
    return redirect(_back_to(request, role, contest, "#steps"))


async def _step_form(request: Request) -> tuple[Marketer, Contest, Step, FormData]:
    """A change to one step: a refusal goes back to that step's row."""
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    step = await Step.filter(id=request.path_params["step"], contest=contest).first()
    anchor = f"#step-{step.id}" if step else "#steps"
    request.state.back = _back_to(request, role, contest, anchor)
    form = await checked_form(request)
    if step is None:
        raise NotFound(N_("This step is not in this contest."), "step_not_found")
    return role, contest, step, form


async def change_step(request: Request) -> Response:
    role, contest, step, form = await _step_form(request)
    await authoring.edit_step_settings(
        contest, step.id, _step_draft(form, step.kind), actor=actor(role), now=utcnow()
    )
    flash(request, N_("Step saved."), "success")
    return redirect(_back_to(request, role, contest, f"#step-{step.id}"))


async def delete_step(request: Request) -> Response:
    role, contest, step, _ = await _step_form(request)
    await authoring.delete_step(contest, step.id, actor=actor(role), now=utcnow())
    flash(request, N_("Step “%(step)s” deleted."), "success", step=step.title)
    return redirect(_back_to(request, role, contest, "#steps"))


async def move_step(request: Request) -> Response:
    role, contest, step, form = await _step_form(request)
    direction = forms.text(form, "direction", 4)
    if direction not in ("up", "down"):
        raise InvalidInput(N_("Move the step up or down."), "bad_direction")
    await authoring.move_step(
        contest, step.id, up=direction == "up", actor=actor(role), now=utcnow()
    )
    return redirect(_back_to(request, role, contest, f"#step-{step.id}"))


async def edit_step(request: Request) -> Response:
    role, contest, form = await _contest_form(request, "#steps")
    await authoring.edit_step_text(
        contest,
        request.path_params["step"],
        title=forms.text(form, "title", 160),
        clue=forms.text(form, "clue", 2000, multiline=True),
        actor=actor(role),
        now=utcnow(),
    )
    flash(request, N_("Step updated."), "success")
    return redirect(_back_to(request, role, contest, "#steps"))


async def referral_leaderboard(request: Request) -> Response:
    role, contest, form = await _contest_form(request, "#referrals")
    shown_now = forms.checkbox(form, "shown")
    await authoring.show_referral_leaderboard(contest, shown_now, actor=actor(role), now=utcnow())
    if shown_now:
        flash(request, N_("The contest page now shows the top referrers."), "success")
    else:
        flash(request, N_("The contest page no longer shows the top referrers."), "success")
    return redirect(_back_to(request, role, contest, "#referrals"))


async def publish(request: Request) -> Response:
    role, contest, _ = await _contest_form(request, "")
    await lifecycle.publish(contest, actor=actor(role), now=utcnow())
    flash(request, N_("Published. The seed of the draw is now committed."), "success")
    return redirect(_back_to(request, role, contest))


async def move_end(request: Request) -> Response:
    role, contest, form = await _contest_form(request, "")
    ends_at = forms.local_datetime(form, "ends_at", contest.timezone)
    await authoring.extend_end(contest, ends_at, actor=actor(role), now=utcnow())
    flash(request, N_("End time changed."), "success")
    return redirect(_back_to(request, role, contest))


async def close_now(request: Request) -> Response:
    role, contest, _ = await _contest_form(request, "")
    state = app_state(request)
    await closing.close_then_draw(
        state.queue, state.settings.queue_name, contest.id, utcnow(), actor=actor(role)
    )
    flash(request, N_("Closed. The list is frozen and the draw is on its way."), "success")
    return redirect(_back_to(request, role, contest))


async def outbox(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    return await page(
        request,
        "console/outbox.html",
        brand=role.brand,
        messages=await mail.messages_for(role.brand),
    )


routes = [
    Route("/console", console_home, name="console"),
    Route("/console/{brand:slug}", brand_home, name="console_brand"),
    Route(
        "/console/{brand:slug}/domains", save_domains, methods=["POST"], name="console_save_domains"
    ),
    Route("/console/{brand:slug}/team", invite, methods=["POST"], name="console_invite"),
    Route("/console/{brand:slug}/outbox", outbox, name="console_outbox"),
    Route("/console/{brand:slug}/contests/new", new_contest, name="console_new_contest"),
    Route(
        "/console/{brand:slug}/contests",
        create_contest,
        methods=["POST"],
        name="console_create_contest",
    ),
    Route("/console/{brand:slug}/contests/{contest:rowid}", contest_detail, name="console_contest"),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/prizes",
        add_prize,
        methods=["POST"],
        name="console_add_prize",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/steps",
        add_step,
        methods=["POST"],
        name="console_add_step",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/steps/{step:rowid}",
        edit_step,
        methods=["POST"],
        name="console_edit_step",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/steps/{step:rowid}/settings",
        change_step,
        methods=["POST"],
        name="console_change_step",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/steps/{step:rowid}/delete",
        delete_step,
        methods=["POST"],
        name="console_delete_step",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/steps/{step:rowid}/move",
        move_step,
        methods=["POST"],
        name="console_move_step",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/leaderboard",
        referral_leaderboard,
        methods=["POST"],
        name="console_referral_leaderboard",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/publish",
        publish,
        methods=["POST"],
        name="console_publish",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/end",
        move_end,
        methods=["POST"],
        name="console_move_end",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/close",
        close_now,
        methods=["POST"],
        name="console_close",
    ),
]
