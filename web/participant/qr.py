"""The page a scanned QR code opens. It checks the code and offers what is left to do:
sign in, enter the contest, or press the one button that completes the step (the step
form every kind posts to). Opening it records nothing."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import views
from contests.clock import utcnow
from contests.errors import GymkanaError
from contests.i18n import translate
from contests.steps import qr
from web.errors import status_of
from web.rendering import login_path, page, path, redirect
from web.session import request_locale, viewer


async def scan_page(request: Request) -> Response:
    slug, step, code = (request.path_params[name] for name in ("slug", "step", "code"))
    contest = await views.public_contest(slug)
    now = utcnow()
    try:
        found = await qr.scan(contest, step, code, await viewer(request), now)
    except GymkanaError as exc:
        problem = translate(exc.message, request_locale(request), **exc.params)
        return await _page(request, status_of(exc), contest=contest, problem=problem)
    if found.proof.code != code:
        # A rotating code, exchanged for a claim: from now on the page's address carries
        # the claim, which stays good while the person signs in and comes back here.
        response = redirect(path(request, "qr_scan", slug=slug, step=step, code=found.proof.code))
        response.headers["Cache-Control"] = "no-store"
        return response
    expires_at = found.proof.expires_at
    return await _page(
        request,
        200,
        contest=contest,
        scan=found,
        here=request.url.path,
        sign_in=login_path(request, request.url.path),
        minutes_left=max(1, math.ceil((expires_at - now).total_seconds() / 60))
        if expires_at
        else None,
    )


async def _page(request: Request, status: int, **context: object) -> Response:
    context.setdefault("scan", None)
    context.setdefault("problem", "")
    response = await page(request, "participant/qr_scan.html", status=status, **context)
    # The address holds a code: keep it out of caches (the page says who is signed in too).
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    Route("/c/{slug:slug}/qr/{step:pid}/{code}", scan_page, name="qr_scan"),
]
