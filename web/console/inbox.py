"""The inbox of the direct channel: conversations with participants, unread first,
assigned to a marketer, searchable; a marketer answers one by name."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import conversations, jobs
from contests.brands import team
from contests.clock import utcnow
from contests.conversations import InboxCursor
from contests.errors import N_
from contests.models import Marketer
from contests.text import SEARCH_MAX, search_words
from web import forms
from web.console.access import EDITOR, VIEWER, role_for
from web.links import links
from web.queue import enqueue
from web.rendering import page, path, redirect
from web.session import checked_form, flash


async def inbox_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    params = request.query_params
    search = search_words(params.get("q", "")[: SEARCH_MAX * 4])
    mine = params.get("mine") == "1"
    raw_after = params.get("after", "")
    after = InboxCursor.decode(raw_after) if raw_after else None
    threads = await conversations.inbox(
        role.brand,
        search=search,
        mine=role if mine else None,
        after=after,
        limit=conversations.PAGE_SIZE + 1,
    )
    more = len(threads) > conversations.PAGE_SIZE
    threads = threads[: conversations.PAGE_SIZE]
    filters = {k: v for k, v in (("q", search), ("mine", "1" if mine else "")) if v}
    here = path(request, "console_inbox", brand=role.brand.slug)
    last = threads[-1].conversation if threads else None
    return await page(
        request,
        "console/inbox.html",
        brand=role.brand,
        role=role,
        threads=threads,
        search=search,
        mine=mine,
        unread=await conversations.unread_count(role.brand),
        first_page=here + ("?" + urlencode(filters) if filters else "") if after else "",
        next_page=here
        + "?"
        + urlencode(
            {
                **filters,
                "after": InboxCursor(last.unread, last.last_message_at, last.id).encode(),
            }
        )
        if more and last
        else "",
    )


async def conversation_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    found = await conversations.thread(role.brand, request.path_params["conversation"])
    return await page(
        request,
        "console/conversation.html",
        brand=role.brand,
        role=role,
        thread=found,
        can_answer=role.role.allows(EDITOR),
        team=await team(role.brand),
        message_max=conversations.MESSAGE_MAX,
    )


async def _editing(request: Request) -> tuple[Marketer, int, str]:
    role = await role_for(request, EDITOR)
    conversation_id: int = request.path_params["conversation"]
    here = path(
        request, "console_conversation", brand=role.brand.slug, conversation=conversation_id
    )
    request.state.back = here
    return role, conversation_id, here


async def answer(request: Request) -> Response:
    role, conversation_id, here = await _editing(request)
    form = await checked_form(request)
    message, outgoing = await conversations.answer(
        role,
        conversation_id,
        forms.text(form, "message", conversations.MESSAGE_MAX * 2, multiline=True),
        now=utcnow(),
        links=links(request),
    )
    if outgoing is not None:
        await enqueue(request, jobs.SEND_EMAIL, outgoing.id)
        flash(
            request,
            N_("Sent, signed “%(signed)s”: by email and on their account page."),
            "success",
            signed=message.signed,
        )
    else:
        flash(
            request,
            N_("Saved. This participant has no email address, so it is only on the site."),
            "success",
        )
    return redirect(here)


async def assign(request: Request) -> Response:
    role, conversation_id, here = await _editing(request)
    form = await checked_form(request)
    to = forms.row_id(form, "marketer")
    await conversations.assign(role, conversation_id, to, now=utcnow())
    flash(request, N_("Assigned.") if to else N_("Nobody is assigned now."), "success")
    return redirect(here)


async def mark_read(request: Request) -> Response:
    role, conversation_id, _ = await _editing(request)
    await checked_form(request)
    await conversations.mark_read(role, conversation_id)
    flash(request, N_("Marked as read."), "success")
    return redirect(path(request, "console_inbox", brand=role.brand.slug))


_ONE = "/console/{brand:slug}/inbox/{conversation:rowid}"

routes = [
    Route("/console/{brand:slug}/inbox", inbox_page, name="console_inbox"),
    Route(_ONE, conversation_page, name="console_conversation"),
    Route(f"{_ONE}/answer", answer, methods=["POST"], name="console_answer"),
    Route(f"{_ONE}/assign", assign, methods=["POST"], name="console_assign"),
    Route(f"{_ONE}/read", mark_read, methods=["POST"], name="console_mark_read"),
]
