"""Pages that every signed-out visitor sees alike, rendered once and kept a few seconds.

A contest page or the home page read by a visitor without a session shows nothing
personal: no name, no progress, no form (hence no CSRF token and no cookie). Under a
crowd, rendering it for each request would repeat the same queries and the same
template thousands of times a second, so each web process keeps the rendered bytes
per page and language:

- for ``PUBLIC_PAGE_SECONDS`` at most; then the next request renders it again, while
  the others keep getting the kept copy until the new one is ready (one render at a
  time per page, however many visitors arrive meanwhile);
- never past a change made in this process (``contests.changes``): a marketer's edit,
  a publication, a close or a draw shows at the very next request. Another process sees
  it once its own copy expires, within ``PUBLIC_PAGE_SECONDS``. The number of people
  taking part may lag by as much.

The response says so to shared caches: ``public`` with ``s-maxage`` of those seconds,
``max-age=0`` so that a browser asks again (after signing in, the same address shows the
visitor's own progress), and ``Vary: Accept-Language``. A shared cache in front must pass
requests that carry the session cookie straight through: those pages are personal and
marked ``private``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import Response

from contests import changes

# Pages are kept per public contest and language: a bound that only a flood of new
# contests could reach, and then the copies are simply dropped and rendered again.
MAX_PAGES = 10_000


@dataclass(frozen=True)
class KeptPage:
    body: bytes
    media_type: str
    headers: dict[str, str]
    generation: int
    fresh_until: float


class PublicPages:
    """Rendered pages by (page, language), as described above."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._pages: dict[tuple[str, ...], KeptPage] = {}
        self._rendering: set[tuple[str, ...]] = set()

    async def respond(
        self, key: tuple[str, ...], render: Callable[[], Awaitable[Response]]
    ) -> Response:
        """The kept page for ``key``, or ``render()``'s answer, kept when it is a 200."""
        kept = self._pages.get(key)
        generation = changes.generation()
        if (
            kept is not None
            and kept.generation == generation
            and (self.clock() < kept.fresh_until or key in self._rendering)
        ):
            return Response(kept.body, headers=kept.headers, media_type=kept.media_type)
        self._rendering.add(key)
        try:
            response = await render()
        finally:
            self._rendering.discard(key)
        if response.status_code == 200 and self.seconds > 0:
            if len(self._pages) >= MAX_PAGES:
                self._pages.clear()
            self._pages[key] = KeptPage(
                body=bytes(response.body),
                media_type=response.media_type or "text/html",
                headers={
                    name: value
                    for name, value in response.headers.items()
                    if name not in {"content-length", "content-type"}
                },
                # The generation read before rendering: a change made meanwhile leaves
                # this copy already outdated, so the next request renders again.
                generation=generation,
                fresh_until=self.clock() + self.seconds,
            )
        return response

    def forget(self) -> None:
        self._pages.clear()
