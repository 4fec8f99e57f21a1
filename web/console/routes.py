"""The marketer's console: every route checks the marketer's role for the brand."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import (
    audit,
    authoring,
    claims,
    content,
    jobs,
    lifecycle,
    mail,
    publishing,
    rules,
    signals,
)
from contests.brands import brands_of, invite_marketer, team, update_domains
from contests.clock import utcnow
from contests.entries import progress_of_entries
from contests.errors import N_
from contests.i18n import LOCALE_NAMES
from contests.models import Contest, Draw, Entry, Prize, Step, Winner
from contests.steps.registry import KINDS
from web import forms
from web.console.access import OWNER, VIEWER, actor, contest_for, role_for
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


async def contest_detail(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    entries = await Entry.filter(contest=contest).prefetch_related("participant").order_by("id")
    rows = list(zip(entries, await progress_of_entries(entries), strict=True))
    now = utcnow()
    phase = lifecycle.phase(contest, now)
    prizes = await Prize.filter(contest=contest).order_by("position", "id")
    steps = await Step.filter(contest=contest).order_by("position", "id")
    return await page(
        request,
        "console/contest.html",
        brand=role.brand,
        contest=contest,
        prizes=prizes,
        steps=steps,
        rows=rows,
        draw=await Draw.filter(contest=contest).first(),
        winners=await Winner.filter(contest=contest)
        .prefetch_related("entry__participant", "prize")
        .order_by("rank"),
        phase=phase,
        kinds=KINDS,
        completed=await authoring.completed_step_ids(contest) if not phase.draft else set(),
        public_url=absolute(request, "contest", slug=contest.slug),
        flags=await signals.flags_by_entry(contest.id),
        flag_labels=signals.LABELS,
        missing=content.missing(contest, prizes, steps),
        other_languages=content.others(contest.language),
        step_titles={step.id: step.title for step in steps},
        languages=LOCALE_NAMES,
        problems=await publishing.problems(contest, now) if phase.draft else [],
        rules_version=await rules.current(contest),
        preview_url=path(request, "console_preview", brand=role.brand.slug, contest=contest.id),
        shortfall=await claims.shortfall(contest),
    )


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
    Route("/console/{brand:slug}/contests/{contest:rowid}", contest_detail, name="console_contest"),
]
