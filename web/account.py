"""A participant's data: download all of it, or delete the account."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import accounts
from contests.clock import utcnow
from contests.errors import N_, InvalidInput
from web.rendering import redirect
from web.session import checked_form, flash, require_viewer, sign_out


async def download(request: Request) -> Response:
    participant = await require_viewer(request)
    data = await accounts.export(participant, now=utcnow())
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="gymkana-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


async def delete(request: Request) -> Response:
    request.state.back = "/me#delete"
    participant = await require_viewer(request)
    form = await checked_form(request)
    if form.get("confirm") != "yes":
        raise InvalidInput(
            N_("Tick the box to confirm that you want to delete your account."),
            "confirm_required",
        )
    await accounts.delete(participant)
    await sign_out(request)
    flash(
        request,
        N_("Your account and your data have been deleted. Thank you for taking part."),
        "success",
    )
    return redirect("/")


routes = [
    Route("/me/data.json", download, name="account_data"),
    Route("/me/delete", delete, methods=["POST"], name="account_delete"),
]
