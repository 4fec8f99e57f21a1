"""The installation check in the console: the brand pages of a contest's steps, what
the last check found on each, and a button that has a worker check them again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import installation, jobs
from contests.errors import N_
from web.console.access import EDITOR, VIEWER, contest_for, role_for
from web.queue import enqueue
from web.ratelimit import rate_limit
from web.rendering import page, path, redirect
from web.session import checked_form, flash
from web.snippet.routes import snippet_tag
from web.state import app_state

PAGE = "/console/{brand:slug}/contests/{contest:rowid}/installation"


async def installation_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    last = await installation.latest(contest)
    return await page(
        request,
        "console/installation.html",
        brand=role.brand,
        role=role,
        contest=contest,
        pages=await installation.pages_of(contest),
        last=last,
        results=dict(last.data) if last else {},
        result_text=installation.RESULT_TEXT,
        may_check=role.role.allows(EDITOR),
        snippet=snippet_tag(request),
    )


async def check(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    here = path(request, "console_installation", brand=role.brand.slug, contest=contest.id)
    request.state.back = here
    await checked_form(request)
    # Each check fetches the brand's own pages: a button pressed in a loop must not
    # turn it into a load test of their site.
    limit = app_state(request).settings.install_check_limit
    await rate_limit(request, limit, "install-check", contest.slug)
    await enqueue(request, jobs.CHECK_INSTALLATION, contest.id)
    flash(
        request,
        N_("The check is on its way: reload this page in a few seconds to see what it found."),
        "success",
    )
    return redirect(here)


routes = [
    Route(PAGE, installation_page, name="console_installation"),
    Route(PAGE + "/check", check, methods=["POST"], name="console_check_installation"),
]
