"""Winners in the console: each one's state and claim, disqualifying one (after a
confirmation) and what the claim form asks. Reading needs VIEWER; the claim details,
which are the winners' personal data, and every change need EDITOR."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import claims
from contests.claims import CLAIM_FIELDS
from contests.clock import utcnow
from contests.errors import N_, NotFound
from contests.models import Contest, Marketer, Winner
from web import forms
from web.console.access import EDITOR, VIEWER, actor, contest_for, role_for
from web.links import links
from web.rendering import page, path, redirect
from web.session import checked_form, flash

BASE = "/console/{brand:slug}/contests/{contest:rowid}/winners"


def _winners_path(request: Request, role: Marketer, contest: Contest) -> str:
    return path(request, "console_winners", brand=role.brand.slug, contest=contest.id)


async def winners_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    winners = await claims.winners_of(contest)
    return await page(
        request,
        "console/winners.html",
        brand=role.brand,
        contest=contest,
        winners=winners,
        states={w.id: claims.state_of(w) for w in winners},
        shortfall=await claims.shortfall(contest),
        sees_claims=role.role.allows(EDITOR),
        fields=CLAIM_FIELDS,
    )


async def save_claim_form(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    request.state.back = _winners_path(request, role, contest)
    form = await checked_form(request)
    await claims.set_claim_form(
        contest,
        days=forms.integer(form, "claim_days", contest.claim_days),
        fields=[name for name in CLAIM_FIELDS if forms.checkbox(form, f"field_{name}")],
        actor=actor(role),
        now=utcnow(),
    )
    flash(request, N_("Saved: this is what winners will be asked."), "success")
    return redirect(request.state.back)


async def _winner(contest: Contest, rank: int) -> Winner:
    winner = (
        await Winner.filter(contest=contest, rank=rank)
        .select_related("entry__participant", "prize")
        .first()
    )
    if winner is None:
        raise NotFound(N_("There is no winner with that place."), "winner_not_found")
    return winner


async def confirm_disqualify(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    winner = await _winner(contest, request.path_params["rank"])
    return await page(
        request,
        "console/disqualify.html",
        brand=role.brand,
        contest=contest,
        winner=winner,
        state=claims.state_of(winner),
    )


async def disqualify(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    rank: int = request.path_params["rank"]
    request.state.back = path(
        request, "console_disqualify", brand=role.brand.slug, contest=contest.id, rank=rank
    )
    form = await checked_form(request)
    done = await claims.disqualify(
        contest,
        rank,
        forms.text(form, "reason", 300),
        actor=actor(role),
        now=utcnow(),
        links=links(request),
    )
    if done:
        flash(
            request,
            N_("Winner %(rank)s is disqualified, and has been told why."),
            "success",
            rank=rank,
        )
    else:
        flash(request, N_("Winner %(rank)s was already out: nothing changed."), "info", rank=rank)
    return redirect(_winners_path(request, role, contest))


routes = [
    Route(BASE, winners_page, name="console_winners"),
    Route(BASE + "/claim-form", save_claim_form, methods=["POST"], name="console_claim_form"),
    Route(BASE + "/{rank:int}/disqualify", confirm_disqualify, name="console_disqualify"),
    Route(
        BASE + "/{rank:int}/disqualify",
        disqualify,
        methods=["POST"],
        name="console_disqualify_post",
    ),
]
