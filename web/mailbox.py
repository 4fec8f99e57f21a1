"""The demo's mailbox: without SMTP_URL, mail stays in the outbox and shows up here,
so a newcomer can open their sign-in link. Only in demo mode."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import mail
from contests.errors import N_, NotFound
from contests.models import Outbox
from web.rendering import page
from web.state import app_state


def _check_enabled(request: Request) -> None:
    settings = app_state(request).settings
    if not (settings.demo and settings.mail_captured):
        raise NotFound(N_("There is nothing at this address."), "no_mailbox")


async def mailbox(request: Request) -> Response:
    _check_enabled(request)
    return await page(request, "demo/mailbox.html", messages=await mail.messages_for(None, 50))


async def message(request: Request) -> Response:
    _check_enabled(request)
    message_id: int = request.path_params["id"]
    item = await Outbox.filter(id=message_id).first()
    if item is None:
        raise NotFound(N_("This message does not exist."), "no_message")
    return await page(request, "demo/message.html", message=item)


routes = [
    Route("/demo/mailbox", mailbox, name="demo_mailbox"),
    Route("/demo/mailbox/{id:rowid}", message, name="demo_message"),
]
