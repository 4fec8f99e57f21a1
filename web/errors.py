"""The one place where domain errors become HTTP answers.

A refused rule is a 4xx with a message the person can act on, in their language:
after a form post, back to the form with the message; on the JSON API,
``{"error": {"code", "message"}}``; otherwise an error page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import (
    DBConnectionError,
    OperationalError,
    TransactionManagementError,
)

from contests.errors import N_, GymkanaError, Message
from contests.i18n import translate
from web.rendering import local_path, login_path, page, redirect
from web.session import flash, request_locale

log = logging.getLogger("gymkana.web")

STATUS = {
    "invalid": 422,
    "not_found": 404,
    "not_allowed": 403,
    "not_signed_in": 401,
    "conflict": 409,
    "rate_limited": 429,
    "unavailable": 503,
}

HTTP_MESSAGES = {
    404: N_("There is nothing at this address. Check the link, or start again from the home page."),
    405: N_("That cannot be done this way. Go back and use the page's buttons."),
    413: N_("What was sent is too large."),
}


def status_of(error: GymkanaError) -> int:
    return STATUS.get(error.kind, 400)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


async def _answer(
    request: Request,
    status: int,
    code: str,
    message: Message,
    params: dict[str, object],
    headers: Mapping[str, str] | None = None,
) -> Response:
    locale = request_locale(request)
    text = translate(message, locale, **params)
    if wants_json(request):
        return JSONResponse(
            {"error": {"code": code, "message": text}}, status_code=status, headers=headers
        )
    back = getattr(request.state, "back", None)
    if status == 401:
        # After signing in, back to the page the person was on: a form's page, not the
        # address it posts to.
        here = back if request.method == "POST" and back else request.url.path
        return redirect(login_path(request, here))
    if request.method == "POST" and back:
        # Shown beside the form when the route named what the form is about.
        target = getattr(request.state, "flash_target", "")
        flash(request, message, "error", target=target, **params)  # type: ignore[arg-type]
        return redirect(local_path(back))
    response = await page(request, "error.html", status=status, message=text, code=code)
    response.headers.update(headers or {})
    return response


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GymkanaError)
    log.info("%s %s refused: %s (%s)", request.method, request.url.path, exc.code, exc)
    return await _answer(request, status_of(exc), exc.code, exc.message, exc.params)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = HTTP_MESSAGES.get(exc.status_code, N_("This request could not be handled."))
    return await _answer(
        request, exc.status_code, f"http_{exc.status_code}", message, {}, exc.headers
    )


# A database or Redis that does not answer is an outage, not a bug: say "a moment".
OUTAGES: tuple[type[Exception], ...] = (DBConnectionError, RedisConnectionError, ConnectionError)


# Answered by the app's exception middleware rather than its last-resort handler, which
# re-raises after answering: an outage is an expected condition, not a crash.
FAILURES: tuple[type[Exception], ...] = (*OUTAGES, OperationalError, TransactionManagementError)


def _outage(exc: Exception) -> bool:
    # SQLite's write lock held past the busy timeout (a long write elsewhere) is the
    # same for the person: try again in a moment.
    busy = isinstance(exc, OperationalError | TransactionManagementError) and (
        "database is locked" in str(exc)
    )
    return busy or isinstance(exc, OUTAGES)


async def server_error(request: Request, exc: Exception) -> Response:
    if _outage(exc):
        log.error("%s %s: a service is unavailable: %r", request.method, request.url.path, exc)
        status, code = 503, "unavailable"
        message = N_("This is not available for a moment. Please try again in a minute.")
    else:
        log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        status, code = 500, "server_error"
        message = N_("Something went wrong on our side. It has been logged; please try again.")
    locale = request_locale(request) if "session" in request.scope else "es"
    text = translate(message, locale)
    if wants_json(request):
        return JSONResponse({"error": {"code": code, "message": text}}, status_code=status)
    return Response(text, status_code=status, media_type="text/plain; charset=utf-8")
