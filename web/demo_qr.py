"""The demo's QR codes on screen: the poster of a printed code and the screen of a
rotating one, each with the address it encodes beneath it, so a newcomer can scan them
with a phone or open them on the same computer. Only in demo mode."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests.errors import N_, NotFound
from contests.models import ContestStatus, Step
from contests.steps.qr import QR
from web import qr_images
from web.rendering import page
from web.state import app_state

# The demo seeds two; a few more made while trying the console still fit on the page.
SHOWN = 8


def _check_enabled(request: Request) -> None:
    if not app_state(request).settings.demo:
        raise NotFound(N_("There is nothing at this address."), "no_demo")


async def codes(request: Request) -> Response:
    _check_enabled(request)
    steps = (
        await Step.filter(kind=QR.name, contest__status=ContestStatus.LIVE)
        .select_related("contest")
        .order_by("contest_id", "position", "id")
        .limit(SHOWN)
    )
    shown = [(step, qr_images.screen(request, step.contest, step)) for step in steps]
    changes = [screen["changes_in"] for _, screen in shown if screen["changes_in"] is not None]
    return await page(request, "demo/qr.html", shown=shown, refresh=min(changes, default=None))


async def code(request: Request) -> Response:
    """What the demo page's script asks for when a rotating code changes."""
    _check_enabled(request)
    step = (
        await Step.filter(
            kind=QR.name, contest__status=ContestStatus.LIVE, public_id=request.path_params["step"]
        )
        .select_related("contest")
        .first()
    )
    if step is None:
        raise NotFound(N_("This QR code is not one of this contest's steps."), "qr_not_found")
    return JSONResponse(
        qr_images.screen(request, step.contest, step), headers={"Cache-Control": "no-store"}
    )


routes = [
    Route("/demo/qr", codes, name="demo_qr"),
    Route("/demo/qr/{step:pid}/code", code, name="demo_qr_code"),
]
