"""Pages that every signed-out visitor sees alike, answered from memory for a few seconds.

A contest page or the home page read by a visitor without a session shows nothing
personal: no name, no progress, no form (hence no CSRF token and no cookie). Under a
crowd, rendering it for each request would repeat the same queries and the same
template thousands of times a second. So the route marks such a response as one to keep
(``keep``), and ``KeptPagesMiddleware``, the outermost layer of the app, keeps its bytes
and headers per path and language and answers the next visitors without a session from
them, before routing, sessions or the database are reached:

- for ``PUBLIC_PAGE_SECONDS`` at most; then the next request renders it again, while
  the others keep getting the kept copy until the new one is ready (one render at a
  time per page, however many visitors arrive meanwhile);
- never past a change made in this process (``contests.changes``): a marketer's edit,
  a publication, a close or a draw shows at the very next request. Another process sees
  it once its own copy expires, within ``PUBLIC_PAGE_SECONDS``. The number of people
  taking part may lag by as much.

A request with the session cookie, or choosing a language with ``?lang=`` (which starts
a session to remember it), always goes through to the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contests import changes
from contests.i18n import negotiate

# Pages are kept per public page and language: a bound that only a flood of new
# contests could reach, and then the copies are simply dropped and rendered again.
MAX_PAGES = 10_000
KEEP = "gymkana.keep_page"


@dataclass(frozen=True)
class KeptPage:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    generation: int
    fresh_until: float


class KeptPages:
    """The kept copies of one app, by (path, language)."""

    def __init__(
        self, seconds: float, default_locale: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.default_locale = default_locale
        self.clock = clock
        self.pages: dict[tuple[str, str], KeptPage] = {}
        self.rendering: set[tuple[str, str]] = set()

    def store(self, key: tuple[str, str], page: KeptPage) -> None:
        if len(self.pages) >= MAX_PAGES:
            self.pages.clear()
        self.pages[key] = page


def keep(scope: Scope) -> None:
    """Let the response to this request be kept and shown to every visitor without a
    session who asks for the same path in the same language."""
    scope[KEEP] = True


class KeptPagesMiddleware:
    """Answers from ``pages`` when it can, and keeps what the app marked with ``keep``."""

    def __init__(self, app: ASGIApp, *, pages: KeptPages, session_cookie: str) -> None:
        self.app = app
        self.pages = pages
        self.cookie = session_cookie.encode() + b"="

    def _key(self, scope: Scope) -> tuple[str, str] | None:
        """The page and language asked for, or None when the answer may be personal."""
        if scope["type"] != "http" or scope["method"] != "GET" or self.pages.seconds <= 0:
            return None
        if b"lang=" in scope["query_string"]:
            return None
        accept = ""
        for name, value in scope["headers"]:
            # A cookie merely containing the name goes through too: never the other way.
            if name == b"cookie" and self.cookie in value:
                return None
            if name == b"accept-language":
                accept = value.decode("latin-1")
        return scope["path"], negotiate(accept, self.pages.default_locale)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        pages = self.pages
        kept = pages.pages.get(key)
        generation = changes.generation()
        if (
            kept is not None
            and kept.generation == generation
            and (pages.clock() < kept.fresh_until or key in pages.rendering)
        ):
            await send({"type": "http.response.start", "status": 200, "headers": kept.headers})
            await send({"type": "http.response.body", "body": kept.body})
            return
        pages.rendering.add(key)
        try:
            await self.app(scope, receive, self._keeping(scope, send, key, generation))
        finally:
            pages.rendering.discard(key)

    def _keeping(self, scope: Scope, send: Send, key: tuple[str, str], generation: int) -> Send:
        started: list[Message] = []
        body: list[bytes] = []

        async def send_and_keep(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                started.append(message)
                return
            if message["type"] != "http.response.body" or not started:
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            start = started[0]
            headers = list(start.get("headers", []))
            if (
                scope.get(KEEP)
                and start["status"] == 200
                and not any(name.lower() == b"set-cookie" for name, _ in headers)
            ):
                self.pages.store(
                    key,
                    KeptPage(
                        headers=headers,
                        body=b"".join(body),
                        # The generation read before rendering: a change made meanwhile
                        # leaves this copy already outdated, so it is rendered again.
                        generation=generation,
                        fresh_until=self.pages.clock() + self.pages.seconds,
                    ),
                )

        return send_and_keep
