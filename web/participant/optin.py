"""A participant stops hearing from a brand, from their account page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import optin
from contests.clock import utcnow
from contests.errors import N_
from web.rendering import path, redirect
from web.session import checked_form, flash, require_viewer


async def opt_out(request: Request) -> Response:
    back = path(request, "account") + "#hearing"
    request.state.back = back
    participant = await require_viewer(request)
    await checked_form(request)
    row = await optin.withdraw(participant, request.path_params["brand"], now=utcnow())
    flash(
        request,
        N_("Done: %(brand)s will not write to you any more after its contests."),
        "success",
        brand=row.brand.name,
    )
    return redirect(back)


routes = [
    Route("/me/brands/{brand:slug}/opt-out", opt_out, methods=["POST"], name="opt_out"),
]
