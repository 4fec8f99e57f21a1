"""A participant lets the brand publish their answer on the contest's wall, or stops."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import views, wall
from contests.clock import utcnow
from contests.entries import entry_of
from contests.errors import N_, NotFound
from contests.models import Step
from web import forms
from web.rendering import path, redirect
from web.session import answer_at, checked_form, flash, require_viewer


async def publish_consent(request: Request) -> Response:
    slug = request.path_params["slug"]
    target = f"step-{request.path_params['step']}"
    back = answer_at(request, path(request, "contest", slug=slug), target)
    participant = await require_viewer(request)
    form = await checked_form(request)
    contest = await views.public_contest(slug)
    entry = await entry_of(contest, participant)
    step = await Step.filter(contest=contest, public_id=request.path_params["step"]).first()
    if entry is None or step is None:
        raise NotFound(N_("Enter the contest first, then do the steps."), "no_entry")
    given = forms.checkbox(form, "publish")
    await wall.consent(entry, step, given, now=utcnow())
    if given:
        flash(
            request,
            N_("Thank you: %(brand)s may show your answer on this page, under your name."),
            "success",
            target=target,
            brand=contest.brand.name,
        )
    else:
        flash(request, N_("Done: your answer is not shown on this page."), "success", target=target)
    return redirect(back)


routes = [
    Route(
        "/c/{slug:slug}/steps/{step:pid}/publish",
        publish_consent,
        methods=["POST"],
        name="publish_consent",
    ),
]
