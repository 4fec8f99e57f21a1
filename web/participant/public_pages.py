"""Where a participant page comes from: for a visitor without a session, a page every
such visitor sees alike, marked so that it may be kept (web/page_cache.py) and shared by
caches in front; for anyone else, a page rendered for them, marked private."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from web.page_cache import keep
from web.session import has_session
from web.state import app_state

PERSONAL = "private, no-cache"


def public_headers(seconds: float) -> dict[str, str]:
    """What a shared cache may do with a page every signed-out visitor sees alike: keep it
    as long as a web process does; a browser asks again (after signing in, the same
    address shows the visitor's own progress). A cache in front must pass requests with
    the session cookie straight through."""
    if seconds <= 0:
        return {"Cache-Control": "no-cache", "Vary": "Accept-Language"}
    return {
        "Cache-Control": f"public, max-age=0, s-maxage={int(seconds)}",
        "Vary": "Accept-Language",
    }


async def public_or_personal(
    request: Request, render: Callable[[], Awaitable[Response]]
) -> Response:
    """``render()``'s page, marked as public (and kept) or private, as described above."""
    personal = has_session(request)
    response = await render()
    # Rendering may have started a session: ?lang= remembers the language chosen.
    if personal or has_session(request):
        response.headers["Cache-Control"] = PERSONAL
        return response
    response.headers.update(public_headers(app_state(request).settings.public_page_seconds))
    keep(request.scope)
    return response
