"""A participant's data: download all of it, or delete the account."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import accounts
from contests.clock import utcnow
from contests.errors import N_, InvalidInput
from web import forms
from web.rendering import path, redirect
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


async def profile(request: Request) -> Response:
    request.state.back = path(request, "account") + "#profile"
    participant = await require_viewer(request)
    form = await checked_form(request)
    await accounts.update_profile(
        participant,
        display_name=forms.person_name(form, "display_name", 200),
        locale=forms.text(form, "locale", 8),
    )
    request.session["lang"] = participant.locale
    name = participant.display_name
    flash(request, N_("Saved. Nice to meet you, %(name)s!"), "success", name=name)
    return redirect(path(request, "account") + "#profile")


async def delete(request: Request) -> Response:
    request.state.back = path(request, "account") + "#delete"
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
    return redirect(path(request, "home"))


routes = [
    Route("/me/data.json", download, name="account_data"),
    Route("/me/profile", profile, methods=["POST"], name="account_profile"),
    Route("/me/delete", delete, methods=["POST"], name="account_delete"),
]
