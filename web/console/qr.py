"""A qr step's code in the console: its images to print, and the full-screen page that
shows a rotating code at an event. Like every console route, each checks the
marketer's role for the brand: a code is not shown before it is printed or put on a
screen, and a rotating one only ever on the marketer's screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests.errors import N_, NotFound
from contests.models import Contest, Entry, Marketer, Step
from contests.steps.qr import QR
from web import qr_images
from web.console.access import EDITOR, VIEWER, contest_for, role_for
from web.links import absolute
from web.rendering import page

STEP = "/console/{brand:slug}/contests/{contest:rowid}/steps/{step:rowid}"


async def _qr_step(request: Request) -> tuple[Marketer, Contest, Step]:
    # A code completes a step: only those who may change the contest see it.
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    step = await Step.filter(id=request.path_params["step"], contest=contest, kind=QR.name).first()
    if step is None:
        raise NotFound(N_("This contest has no such QR step."), "qr_not_found")
    return role, contest, step


def _image(kind: str) -> Callable[[Request], Awaitable[Response]]:
    async def image(request: Request) -> Response:
        _, contest, step = await _qr_step(request)
        return qr_images.image(request, contest, step, kind)

    return image


async def screen(request: Request) -> Response:
    """The step's code, big, for a screen; a rotating one changes in place."""
    role, contest, step = await _qr_step(request)
    return await page(
        request,
        "console/qr_screen.html",
        brand=role.brand,
        contest=contest,
        step=step,
        screen=qr_images.screen(request, contest, step),
    )


async def poster(request: Request) -> Response:
    """A page to print on A4: the brand's logo, the step's clue and its code."""
    role, contest, step = await _qr_step(request)
    return await page(
        request,
        "console/qr_poster.html",
        brand=role.brand,
        contest=contest,
        step=step,
        screen=qr_images.screen(request, contest, step),
    )


async def referral_code(request: Request) -> Response:
    """A participant's referral link as a QR code, for the marketer to hand on (to an
    ambassador's flyer, say)."""
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    code = request.path_params["code"]
    if not await Entry.filter(contest=contest, referral_code=code).exists():
        raise NotFound(N_("No entrant of this contest has this referral code."), "no_referral")
    link = absolute(request, "referral", slug=contest.slug, code=code)
    kind = request.path_params["format"]
    if kind not in qr_images.FORMATS:
        raise NotFound(N_("Codes come as SVG or PNG."), "bad_format")
    return qr_images.link_image(link, kind, f"{contest.slug}-{code}")


async def screen_code(request: Request) -> Response:
    """What the screen page's script asks for when the code changes."""
    _, contest, step = await _qr_step(request)
    return JSONResponse(
        qr_images.screen(request, contest, step), headers={"Cache-Control": "no-store"}
    )


routes = [
    Route(STEP + "/qr.svg", _image("svg"), name="console_qr_svg"),
    Route(STEP + "/qr.png", _image("png"), name="console_qr_png"),
    Route(STEP + "/screen", screen, name="console_qr_screen"),
    Route(STEP + "/screen.json", screen_code, name="console_qr_screen_code"),
    Route(STEP + "/poster", poster, name="console_qr_poster"),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/referrals/{code:pid}.{format}",
        referral_code,
        name="console_referral_qr",
    ),
]
