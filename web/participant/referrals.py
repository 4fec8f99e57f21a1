"""A participant's referral link: following it, and its QR code."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import views
from contests.entries import entry_of
from contests.errors import N_, NotFound
from contests.referrals import ARRIVAL_COOKIE, ARRIVAL_DAYS, remember_arrival
from web.links import absolute
from web.qr_images import FORMATS, link_image
from web.rendering import path, redirect
from web.session import require_viewer
from web.state import app_state


async def follow(request: Request) -> Response:
    """On to the contest, remembering in a signed cookie whose link brought the visitor:
    entering later, even after signing in, records the referral. Nothing is saved now."""
    contest = await views.public_contest(request.path_params["slug"])
    state = app_state(request)
    cookie = remember_arrival(
        state.tokens,
        request.cookies.get(ARRIVAL_COOKIE),
        contest.slug,
        request.path_params["code"],
    )
    response = redirect(path(request, "contest", slug=contest.slug))
    response.set_cookie(
        ARRIVAL_COOKIE,
        cookie,
        max_age=ARRIVAL_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def qr(request: Request) -> Response:
    """The QR code of the signed-in participant's own referral link."""
    image_format = request.path_params["format"]
    if image_format not in FORMATS:
        raise HTTPException(status_code=404)
    participant = await require_viewer(request)
    contest = await views.public_contest(request.path_params["slug"])
    entry = await entry_of(contest, participant)
    if entry is None:
        raise NotFound(N_("Enter the contest first, then do the steps."), "no_entry")
    link = absolute(request, "referral", slug=contest.slug, code=entry.referral_code)
    return link_image(link, image_format, f"{contest.slug}-qr")


routes = [
    Route("/c/{slug:slug}/r/{code}", follow, name="referral"),
    Route("/c/{slug:slug}/my-link.{format}", qr, name="referral_qr"),
]
