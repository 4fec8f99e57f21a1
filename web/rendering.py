"""Pages: a template rendered in the request's language with what every page needs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from contests.i18n import LOCALE_NAMES, translate
from contests.models import Marketer
from contests.templating import render
from web.session import LazyCsrfToken, pop_flash, request_locale, viewer
from web.state import app_state


async def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    locale = request_locale(request)
    flash = pop_flash(request)
    if flash:
        params = flash.get("params") or {}
        message = flash.get("message", "")
        # A plural pair comes back from the session's JSON as a list.
        chosen = (str(message[0]), str(message[1])) if isinstance(message, list) else str(message)
        flash["message"] = translate(chosen, locale, **params)
        flash["target"] = str(flash.get("target") or "")
    person = await viewer(request)
    context.setdefault("brand_look", None)
    html = render(
        template,
        locale,
        request=request,
        viewer=person,
        # Marketers reach their console from any page's header.
        is_marketer=person is not None and await Marketer.filter(participant_id=person.id).exists(),
        csrf_token=LazyCsrfToken(request),
        flash=flash,
        locales=LOCALE_NAMES,
        settings=app_state(request).settings,
        url_for=lambda name, **params: path(request, name, **params),
        **context,
    )
    return HTMLResponse(html, status_code=status)


MAX_PATH = 500


def local_path(value: str | None, default: str = "/") -> str:
    """Only a path on this site: never another host, never a scheme (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if len(value) > MAX_PATH or not value.isprintable():
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def path(request: Request, name: str, **params: Any) -> str:
    """The path of a named route (``name=`` in a route list), its parameters filled in."""
    return str(request.app.url_path_for(name, **params))


def login_path(request: Request, next_path: str) -> str:
    """The sign-in page, which leads on to ``next_path`` (only ever a path on this site)."""
    return path(request, "login") + "?next=" + quote(local_path(next_path))


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(local_path(to), status_code=303)
