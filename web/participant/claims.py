"""The winner's page: their prize, its deadline in their zone, their state and the claim form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import claims
from contests.claims import CLAIM_FIELDS
from contests.clock import utcnow
from contests.errors import N_
from web import forms
from web.rendering import page, path, redirect
from web.session import checked_form, flash, require_viewer
from web.state import app_state


async def claim_page(request: Request) -> Response:
    token = request.path_params["token"]
    winner = await claims.winner_for_token(app_state(request).tokens, token)
    participant = await require_viewer(request)
    mine = winner.entry.participant_id == participant.id  # type: ignore[attr-defined]
    return await page(
        request,
        "participant/claim.html",
        status=200 if mine else 403,
        winner=winner,
        contest=winner.contest,
        mine=mine,
        state=claims.state_of(winner),
        open=mine and winner.status in claims.WAITING_TO_CLAIM,
        fields=[(name, CLAIM_FIELDS[name]) for name in winner.contest.claim_fields],
        token=token,
    )


async def claim_prize(request: Request) -> Response:
    token = request.path_params["token"]
    here = path(request, "claim", token=token)
    request.state.back = here
    winner = await claims.winner_for_token(app_state(request).tokens, token)
    participant = await require_viewer(request)
    form = await checked_form(request)
    values = {
        name: forms.text(form, name, spec.max_length, multiline=spec.multiline)
        for name, spec in CLAIM_FIELDS.items()
        if name in winner.contest.claim_fields
    }
    await claims.claim(winner, participant, values, now=utcnow())
    flash(request, N_("Done: your prize is claimed. The brand will be in touch."), "success")
    return redirect(here)


routes = [
    Route("/claim/{token}", claim_page, name="claim"),
    Route("/claim/{token}", claim_prize, methods=["POST"], name="claim_prize"),
]
