"""Absolute addresses of the app's own pages, from the route names and BASE_URL."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from starlette.requests import Request

from web.state import app_state


class Routes(Protocol):
    def url_path_for(self, name: str, /, **path_params: Any) -> Any: ...


class AppLinks:
    """The domain's ``contests.links.Links``, answered by the app's router: a route that
    moves moves its links in every email too."""

    def __init__(self, routes: Routes, base_url: str) -> None:
        self._routes = routes
        self._base_url = base_url.rstrip("/")

    def path(self, name: str, **params: Any) -> str:
        return str(self._routes.url_path_for(name, **params))

    def absolute(self, name: str, **params: Any) -> str:
        return self._base_url + self.path(name, **params)

    def contest(self, slug: str) -> str:
        return self.absolute("contest", slug=slug)

    def draw(self, slug: str) -> str:
        return self.absolute("draw", slug=slug)

    def claim(self, token: str) -> str:
        return self.absolute("claim", token=token)

    def verify_email(self, token: str) -> str:
        return self.absolute("verify_email", token=token)

    def account(self) -> str:
        return self.absolute("account")

    def console_sign_in(self, brand_slug: str) -> str:
        console = self.path("console_brand", brand=brand_slug)
        return f"{self.absolute('login')}?next={quote(console, safe='/')}"

    def email_sign_in(self, token: str) -> str:
        return self.absolute("email_link", token=token)

    def media(self, file: str) -> str:
        return self.absolute("media", file=file)

    def snippet(self) -> str:
        return self.absolute("snippet")


def absolute(request: Request, name: str, **params: Any) -> str:
    """The public address of a named route: BASE_URL, not whatever Host was asked."""
    return links(request).absolute(name, **params)


def links(request: Request) -> AppLinks:
    return AppLinks(request.app, app_state(request).settings.base_url)
