"""The contest page's template and everything it reads, built in one place for the live
page and for the console's preview of it, so the two never disagree on what it needs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from contests import claims, contact, conversations, referrals, views, wall
from contests.clock import utcnow
from contests.consent import must_accept_again
from contests.lifecycle import phase
from contests.models import Contest, Participant
from web.rendering import page, path
from web.session import request_locale
from web.state import app_state


async def render_contest(
    request: Request, contest: Contest, person: Participant | None, *, preview_token: str = ""
) -> Response:
    """``contest``'s page as ``person`` sees it (None: someone signed out). With a
    ``preview_token`` it is the console's preview, seen as someone signed out sees the
    live page: no entry, win or conversation of its own, but the brand's wall."""
    tokens = app_state(request).tokens
    view = await views.contest_view(contest, person, tokens, request_locale(request))
    threads = await conversations.threads_of(person, contest.brand) if person else []
    wait = await views.waiting_draw(contest)
    return await page(
        request,
        "participant/contest.html",
        view=view,
        thread=threads[0] if threads else None,
        wall=await wall.wall_of(contest),
        contest=contest,
        win_state=claims.state_of(view.my_win) if view.my_win else "",
        ask_address=view.entry is not None and contact.needs_address(person),
        claim_path=path(request, "claim", token=claims.claim_token(tokens, view.my_win))
        if view.my_win
        else "",
        brand_look=contest.brand,
        phase=phase(contest, utcnow()),
        referral=await referrals.referral_view(contest, view.entry, view.steps),
        preview_token=preview_token,
        console_url=path(request, "console_contest", brand=contest.brand.slug, contest=contest.id)
        if preview_token
        else "",
        must_accept_again=view.entry is not None and must_accept_again(contest, view.entry),
        beacon_state=wait.state,
        round_at=wait.round_at,
    )
