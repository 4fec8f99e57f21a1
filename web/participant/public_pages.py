"""Where a participant page comes from: the copies kept for visitors without a session
(web/page_cache.py), or rendered for the person asking, marked private."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from web.session import has_session, request_locale
from web.state import app_state

PERSONAL = "private, no-cache"


def public_headers(seconds: float) -> dict[str, str]:
    """What a shared cache may do with a page every signed-out visitor sees alike."""
    if seconds <= 0:
        return {"Cache-Control": "no-cache", "Vary": "Accept-Language"}
    return {
        "Cache-Control": f"public, max-age=0, s-maxage={int(seconds)}",
        "Vary": "Accept-Language",
    }


async def public_or_personal(
    request: Request, key: tuple[str, ...], render: Callable[[], Awaitable[Response]]
) -> Response:
    """``render()``'s page: for a visitor without a session, from the kept copies (``key``
    plus the request's language); for anyone else, rendered for them, marked private."""
    if has_session(request):
        response = await render()
        response.headers["Cache-Control"] = PERSONAL
        return response
    state = app_state(request)
    locale = request_locale(request)
    response = await state.public_pages.respond((*key, locale), render)
    if has_session(request):
        # ?lang= just chose a language, remembered in a new session cookie.
        response.headers["Cache-Control"] = PERSONAL
    else:
        response.headers.update(public_headers(state.settings.public_page_seconds))
    return response
