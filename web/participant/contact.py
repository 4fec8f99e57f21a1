"""A participant's contact address: asked for when the sign-in gave none that was
verified, and confirmed through the link emailed to it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import contact, jobs
from contests.clock import utcnow
from contests.errors import N_
from web import forms
from web.links import links
from web.queue import enqueue
from web.ratelimit import rate_limit
from web.rendering import local_path, page, path, redirect
from web.session import checked_form, flash, request_locale, require_viewer
from web.state import app_state


async def ask(request: Request) -> Response:
    """Email a confirmation link to the address typed; back to the page it was asked on."""
    participant = await require_viewer(request)
    form = await checked_form(request)
    back = local_path(str(form.get("next", "")), path(request, "account"))
    request.state.back = back
    state = app_state(request)
    await rate_limit(request, state.settings.sign_in_limit, "contact-email", participant.public_id)
    message = await contact.ask_to_verify(
        participant,
        forms.text(form, "email", 254),
        tokens=state.tokens,
        links=links(request),
        locale=request_locale(request),
        reply_to=state.settings.reply_to,
        now=utcnow(),
    )
    await enqueue(request, jobs.SEND_EMAIL, message.id)
    flash(
        request,
        N_("We have sent a link to %(email)s: follow it to confirm your address."),
        "success",
        email=message.to_email,
    )
    return redirect(back)


async def confirm_page(request: Request) -> Response:
    """Mail scanners open links: a GET only shows a button, the POST confirms."""
    _, address = contact.read_link(app_state(request).tokens, request.path_params["token"])
    return await page(
        request, "participant/verify_email.html", email=address, token=request.path_params["token"]
    )


async def confirm(request: Request) -> Response:
    await checked_form(request)
    participant = await contact.confirm(app_state(request).tokens, request.path_params["token"])
    flash(
        request,
        N_("Thank you: we will write to you at %(email)s."),
        "success",
        email=participant.email or "",
    )
    return redirect(path(request, "home"))


routes = [
    Route("/me/email", ask, methods=["POST"], name="ask_email"),
    Route("/me/email/{token}", confirm_page, name="verify_email"),
    Route("/me/email/{token}", confirm, methods=["POST"], name="confirm_email"),
]
