"""Absolute addresses of the app's own pages, from the route names and BASE_URL."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from web.rendering import path
from web.state import app_state


def absolute(request: Request, name: str, **params: Any) -> str:
    """The public address of a named route: BASE_URL, not whatever Host was asked."""
    return app_state(request).settings.base_url + path(request, name, **params)
