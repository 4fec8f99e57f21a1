"""The signed-in person, CSRF tokens and the request's language.

The cookie (Starlette's signed SessionMiddleware) carries only a session id, a CSRF
token, the chosen language, a device id and a one-shot message; the session itself
lives in the database so signing out ends it for good.

The device id is a random name for the browser, kept across sign-ins and sign-outs, so
that entries made from one browser under several accounts show as such (the fraud
signals in contests/signals.py keep only a keyed hash of it).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from contests.clock import utcnow
from contests.errors import N_, InvalidInput, Message, NotAllowed, NotSignedIn
from contests.i18n import negotiate, normalise
from contests.models import Participant
from oauth import sessions
from web.state import app_state

SESSION_COOKIE = "gymkana"
CSRF_FIELD = "csrf_token"
DEVICE = "device"
# Far above the largest form (a 5,000-character description, escaped).
MAX_FORM_BYTES = 1024 * 1024


def has_session(request: Request) -> bool:
    """Whether this request has a session: a cookie it brought, or one this response
    is about to set."""
    session = request.scope.get("session")
    return SESSION_COOKIE in request.cookies or bool(getattr(session, "modified", False))


def _stored(request: Request) -> MutableMapping[str, Any]:
    """The session to read from. A visitor without one reads nothing without touching it:
    Starlette's session adds ``Vary: Cookie`` to a response once read, which would keep
    shared caches from serving the pages everyone signed out sees alike."""
    if has_session(request):
        return request.session
    return {}


async def viewer(request: Request) -> Participant | None:
    """The signed-in participant, or None."""
    if "viewer" in request.state._state:
        cached: Participant | None = request.state.viewer
        return cached
    participant = None
    session_id = _stored(request).get("sid")
    if isinstance(session_id, str):
        settings = app_state(request).settings
        participant = await sessions.resolve(
            session_id, now=utcnow(), idle=timedelta(minutes=settings.session_idle_minutes)
        )
        if participant is None:
            request.session.pop("sid", None)
    request.state.viewer = participant
    return participant


async def require_viewer(request: Request) -> Participant:
    participant = await viewer(request)
    if participant is None:
        raise NotSignedIn(N_("Sign in to continue."), "sign_in_required")
    return participant


async def sign_in(request: Request, participant: Participant) -> None:
    """Start a fresh session: nothing from before sign-in carries over but the language
    and the device id."""
    settings = app_state(request).settings
    lang = request.session.get("lang")
    device = device_id(request)
    old = request.session.get("sid")
    if isinstance(old, str):
        await sessions.end(old, utcnow())
    request.session.clear()
    record = await sessions.start(
        participant, now=utcnow(), max_age=timedelta(hours=settings.session_max_hours)
    )
    request.session.update(sid=record.id, csrf=secrets.token_urlsafe(32), device=device)
    if lang:
        request.session["lang"] = lang
    request.state.viewer = participant


async def sign_out(request: Request) -> None:
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        await sessions.end(session_id, utcnow())
    lang = request.session.get("lang")
    device = request.session.get(DEVICE)
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    if isinstance(device, str):
        request.session[DEVICE] = device
    request.state.viewer = None


def device_id(request: Request) -> str:
    """This browser's random device id, given at its first sign-in."""
    device = request.session.get(DEVICE)
    if not isinstance(device, str):
        device = secrets.token_urlsafe(16)
        request.session[DEVICE] = device
    return device


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


class LazyCsrfToken:
    """This session's CSRF token, made only when a page renders a form that carries it:
    a page without a form starts no session and sets no cookie."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:
        # A URL-safe token: nothing in it to escape.
        return csrf_token(self.request)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches this session's."""
    # Every field has its own limit; a body announced as larger than any form is
    # refused before it is read.
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise InvalidInput(N_("What was sent is too large."), "too_large")
    return await _parsed(request, max_files=0)


# Room for a form's text fields beside its file.
UPLOAD_OVERHEAD = 64 * 1024


async def checked_upload(request: Request, max_file_bytes: int) -> FormData:
    """A posted multipart form with at most one file, once its CSRF token matches.

    The body must say its length (browsers do), and one longer than the file limit
    allows is refused before it is read.
    """
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > max_file_bytes + UPLOAD_OVERHEAD:
        raise InvalidInput(
            N_("The file is too large: at most %(size)s KB."),
            "too_large",
            size=max_file_bytes // 1024,
        )
    return await _parsed(request, max_files=1)


async def _parsed(request: Request, max_files: int) -> FormData:
    try:
        if not max_files:
            # Browsers send forms in UTF-8; the form parser would read other bytes as
            # Latin-1 and so let them through as other characters. (A file's bytes
            # are its own: text fields beside it are checked as they are read.)
            (await request.body()).decode("utf-8")
        form = await request.form(max_files=max_files, max_fields=100)
    except Exception:  # noqa: BLE001 - multipart parser errors vary
        raise InvalidInput(
            N_("The form could not be read. Please try again."), "bad_form"
        ) from None
    _check_csrf(request, form)
    return form


def _check_csrf(request: Request, form: FormData) -> None:
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent, expected)
    ):
        raise NotAllowed(
            N_(
                "This form has expired (or was sent from another site). "
                "Reload the page and try again."
            ),
            "csrf_failed",
        )


def show_asked_language(request: Request) -> None:
    """This page is in the language its address asks for (``?lang=``) without making it
    the reader's: a marketer previewing a contest in Spanish still reads the console in
    English afterwards."""
    request.state.shown_locale = normalise(request.query_params.get("lang")) or ""


def request_locale(request: Request) -> str:
    shown = getattr(request.state, "shown_locale", "")
    if shown:
        return str(shown)
    chosen = normalise(request.query_params.get("lang"))
    if chosen:
        request.session["lang"] = chosen
        return chosen
    remembered = normalise(_stored(request).get("lang"))
    if remembered:
        return remembered
    default = app_state(request).settings.default_locale
    return negotiate(request.headers.get("accept-language"), default)


def flash(
    request: Request,
    message: Message,
    kind: str = "info",
    *,
    target: str = "",
    **params: str | int,
) -> None:
    """A message shown once on the next page; stored untranslated, shown translated.

    ``target`` names the element of that page the message is about (a step): the page
    shows the message there, where the person is looking, or at its top otherwise."""
    request.session["flash"] = {
        "message": message,
        "kind": kind,
        "target": target,
        "params": params,
    }


def answer_at(request: Request, page_path: str, target: str) -> str:
    """Where to show the answer to a form about ``target`` (an element of that page, such
    as a step): the page at the message's own anchor. A refusal raised while handling the
    form goes there too (web/errors.py). The message can take focus, so the browser
    focuses it on arrival, script or not, and a screen reader reads it."""
    request.state.back = f"{page_path}#{target}-feedback"
    request.state.flash_target = target
    return str(request.state.back)


def pop_flash(request: Request) -> dict[str, Any] | None:
    value = _stored(request).pop("flash", None)
    return value if isinstance(value, dict) else None
