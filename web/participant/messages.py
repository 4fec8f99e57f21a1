"""A participant writes to a brand, from a contest page or from their account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import conversations, views
from contests.clock import utcnow
from contests.errors import N_
from contests.models import Brand, Participant
from web import forms
from web.ratelimit import client_address, rate_limit
from web.rendering import path, redirect
from web.session import answer_at, checked_form, flash, require_viewer
from web.state import app_state


def write_target(brand: Brand) -> str:
    """The block of a page where a participant writes to ``brand``."""
    return f"write-{brand.slug}"


async def _write(request: Request, participant: Participant, brand: Brand, **where: object) -> None:
    form = await checked_form(request)
    limit = app_state(request).settings.message_limit
    await rate_limit(request, limit, "message", participant.public_id)
    await rate_limit(request, limit, "message-client", client_address(request))
    await conversations.write_to_brand(
        participant,
        brand,
        forms.text(form, "message", conversations.MESSAGE_MAX * 2, multiline=True),
        now=utcnow(),
        **where,  # type: ignore[arg-type]
    )
    flash(
        request,
        N_("Sent. %(brand)s will answer you here and by email."),
        "success",
        target=write_target(brand),
        brand=brand.name,
    )


async def write_from_contest(request: Request) -> Response:
    slug = request.path_params["slug"]
    contest = await views.public_contest(slug)
    back = answer_at(request, path(request, "contest", slug=slug), write_target(contest.brand))
    participant = await require_viewer(request)
    await _write(request, participant, contest.brand, contest=contest)
    return redirect(back)


async def write_from_account(request: Request) -> Response:
    participant = await require_viewer(request)
    brand = await conversations.brand_to_write(participant, request.path_params["brand"])
    back = answer_at(request, path(request, "account"), write_target(brand))
    await _write(request, participant, brand)
    return redirect(back)


routes = [
    Route("/c/{slug:slug}/messages", write_from_contest, methods=["POST"], name="write_to_brand"),
    Route(
        "/me/brands/{brand:slug}/messages",
        write_from_account,
        methods=["POST"],
        name="write_from_account",
    ),
]
