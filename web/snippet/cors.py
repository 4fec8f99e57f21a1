"""CORS for the snippet's API, as plain ASGI: the brand's own pages may read the answers,
nobody else, and no answer is cached."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED = "gymkana_cors_origin"


def cors_headers(origin: str | None) -> list[tuple[bytes, bytes]]:
    """For an answer made without ``SnippetCors``: what lets ``origin`` (the brand's,
    checked) read it; nothing when no origin was allowed."""
    if not origin:
        return []
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]


def allow_origin(request: Request, origin: str) -> None:
    """Let ``origin`` read this answer (the route checked it is the brand's)."""
    request.scope.setdefault("state", {})[ALLOWED] = origin


class SnippetCors:
    """Wraps the app: on paths under ``prefix``, error answers included."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                origin = scope.get("state", {}).get(ALLOWED)
                if origin:
                    headers["Access-Control-Allow-Origin"] = origin
                    headers.add_vary_header("Origin")
                headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_cors)
