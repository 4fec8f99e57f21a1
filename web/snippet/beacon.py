"""The beacon: the snippet reports a visit that lasted long enough.

The hot path reads nothing from the database and makes no Redis round trip of its own:
the token's signature and age are checked in process, the step's facts (settings,
contest open, brand domains) come from a cache of a few seconds, a flood from one
client address is cut by a counter in process, and the report joins the next batch
written in one statement (``contests.group_commit``). The answer, 202, comes only once
that statement has returned: an accepted report is a row in the database. When the
database cannot take it the answer is 503 and the snippet tries again.

The beacon is the busiest address of all, and the app's middleware (sessions, kept
pages, per-response header rewriting) does nothing for it, so it is answered as plain
ASGI in front of that stack (``BeaconEndpoint``), with what those layers would add to
its answers prepared once: the security headers, and CORS for the brand's own origin.
The snippet sends it without cookies, so an error is said in the language of
``Accept-Language`` (or ``?lang=``).

A worker is told once per batch (one job for many reports); when Redis is down the
worker's clock finds the pending reports by itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Sequence

from limits import parse
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from contests import jobs
from contests.clock import utcnow
from contests.errors import N_, GymkanaError, InvalidInput, Message, RateLimited, Unavailable
from contests.group_commit import GroupCommit
from contests.i18n import negotiate, normalise, translate
from contests.settings import Settings
from contests.steps import visit_reports
from contests.steps.visit_facts import VisitFactsCache
from contests.steps.visit_reports import StoredReport, VisitReport
from contests.tokens import Tokens
from web.errors import HTTP_MESSAGES, status_of
from web.middleware import security_headers
from web.snippet.cors import cors_headers
from web.state import AppState

log = logging.getLogger("gymkana.beacon")

PATH = "/api/beacon"
MAX_BEACON_BYTES = 4096

Headers = Sequence[tuple[bytes, bytes]]


# What a refusal for a moment tells the client to wait before it tries again (the
# snippet waits this long, then longer at each try).
RETRY_AFTER_SECONDS = 2

# Between two nudges at least this long: a verification job takes every report waiting
# when it runs, so one enqueue (four Redis round trips) per batch under load was work for
# nothing; reports stored meanwhile wait at most this long for theirs.
NUDGE_GAP_SECONDS = 0.05


class Nudge:
    """Tells the verification lane that reports wait: one enqueue at a time, at most one
    per ``NUDGE_GAP_SECONDS``, and one more after it if reports arrived meanwhile (the
    first id of the batches since names the job)."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._next: int | None = None
        self._task: asyncio.Task[None] | None = None

    def __call__(self, first_id: int) -> None:
        if self._next is None:
            self._next = first_id
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send())

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def _send(self) -> None:
        while self._next is not None:
            wave, self._next = self._next, None
            await jobs.enqueue(
                self._state.queue, self._state.settings.queue_name, jobs.VERIFY_EVIDENCE, wave
            )
            await asyncio.sleep(NUDGE_GAP_SECONDS)


class ClientCounter:
    """Requests per client address in fixed windows, in this process's memory. (The
    ``limits`` library's memory storage starts a timer thread to expire its keys, which
    costs milliseconds per request under load; a window's dictionary is simply dropped
    when the window ends.)"""

    def __init__(self, rule: str) -> None:
        item = parse(rule)
        self._amount = item.amount
        self._seconds = item.get_expiry()
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, client: str) -> bool:
        """Count one request; False once the client has spent this window's amount."""
        window = int(time.monotonic() // self._seconds)
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(client, 0) + 1
        self._counts[client] = count
        return count <= self._amount

    def seconds_left(self) -> int:
        """Whole seconds until the current window ends and every client may send again."""
        return max(1, math.ceil(self._seconds - time.monotonic() % self._seconds))


class BeaconPath:
    """What one web process keeps for the beacon: the facts cache, the batch writer, the
    flood counter and the nudge to the workers."""

    def __init__(self, state: AppState) -> None:
        settings: Settings = state.settings
        self.tokens: Tokens = state.tokens
        self.facts = VisitFactsCache(settings.beacon_cache_seconds)
        self.batches: GroupCommit[VisitReport, StoredReport] = GroupCommit(
            self._write, max_items=settings.beacon_batch, writers=settings.beacon_writers
        )
        self._counter = ClientCounter(settings.beacon_limit)
        self._nudge = Nudge(state)

    def count(self, client: str) -> None:
        """One report from ``client``; a flood is refused without slowing anyone else."""
        if not self._counter.hit(client):
            raise RateLimited(
                N_("Too many attempts. Wait a few minutes and try again."), "rate_limited"
            )

    def flood_seconds_left(self) -> int:
        return self._counter.seconds_left()

    async def check(self, body: bytes, origin: str | None) -> VisitReport:
        """The report in ``body``, checked against its token and its step's facts."""
        try:
            data = json.loads(body)
            token, page_url = str(data["token"]), str(data["page"])
        except (ValueError, KeyError, TypeError, RecursionError):
            raise InvalidInput(
                N_("The report must be JSON with “token” and “page”."), "bad_beacon"
            ) from None
        payload = visit_reports.read_visit_token(self.tokens, token)
        try:
            facts = await self.facts.get(str(payload.get("s")))
        except Exception as exc:  # noqa: BLE001 - any database failure: refuse, never a 500
            log.warning("could not read a visit step's facts: %s", exc)
            raise Unavailable(
                N_("This is not available for a moment. Please try again in a minute."),
                "store_unavailable",
            ) from None
        return visit_reports.check_report(
            facts, payload, origin=origin, page_url=page_url, now=utcnow()
        )

    async def _write(self, reports: Sequence[VisitReport]) -> list[StoredReport]:
        try:
            stored = await visit_reports.store_reports(reports)
        except Exception as exc:  # noqa: BLE001 - any database failure: refuse, never drop
            log.warning("could not store %s visit reports: %s", len(reports), exc)
            raise Unavailable(
                N_("This is not available for a moment. Please try again in a minute."),
                "store_unavailable",
            ) from None
        ids = [s.evidence_id for s in stored if s.evidence_id is not None]
        if ids:
            self._nudge(min(ids))
        return stored

    async def close(self) -> None:
        """Let the writes in flight finish, and their workers be told."""
        await self.batches.wait()
        await self._nudge.wait()


async def close_beacon_path(app: Starlette) -> None:
    """At shutdown, before the database and the queue close."""
    path: BeaconPath | None = getattr(app.state, "beacon_path", None)
    if path is not None:
        await path.close()


class _NotPost(Exception):
    """Anything but POST at the beacon's address."""


class _Gone(Exception):
    """The client left before its report was read: nobody to answer."""


class BeaconEndpoint:
    """Answers ``POST /api/beacon`` before the app's middleware runs; every other
    request goes on to the app unchanged."""

    def __init__(self, app: ASGIApp, *, path: BeaconPath, hsts: bool, default_locale: str) -> None:
        self.app = app
        self.path = path
        self.default_locale = default_locale
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            *security_headers(hsts),
        ]
        self.received = json.dumps({"status": "received"}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        origin: str | None = None
        allowed: str | None = None
        try:
            if scope["method"] != "POST":
                raise _NotPost
            client = scope.get("client")
            self.path.count(client[0] if client else "unknown")
            length = b""
            for name, value in scope["headers"]:
                if name == b"origin":
                    origin = value.decode("latin-1")
                elif name == b"content-length":
                    length = value
            body = await _body(receive, length)
            report = await self.path.check(body, origin)
            # The origin is the brand's (checked above): the snippet may read what
            # follows, a 409 or a 503 included.
            allowed = origin
            visit_reports.outcome_or_error(await self.path.batches.submit(report))
        except GymkanaError as refused:
            log.info("%s %s refused: %s (%s)", scope["method"], PATH, refused.code, refused)
            status = status_of(refused)
            await self._error(
                scope, send, status, refused.code, refused.message, refused.params, allowed,
                self._retry_after(status),
            )  # fmt: skip
        except _NotPost:
            await self._error(
                scope, send, 405, "http_405", HTTP_MESSAGES[405], {}, None, [(b"allow", b"POST")]
            )
        except _Gone:
            return
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], PATH)
            message = N_("Something went wrong on our side. It has been logged; please try again.")
            await self._error(scope, send, 500, "server_error", message, {}, allowed)
        else:
            await self._send(send, 202, self.received, allowed)

    async def _send(
        self, send: Send, status: int, body: bytes, allowed: str | None, extra: Headers = ()
    ) -> None:
        headers = [*self.headers, (b"content-length", str(len(body)).encode()), *extra]
        headers += cors_headers(allowed)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(
        self,
        scope: Scope,
        send: Send,
        status: int,
        code: str,
        message: Message,
        params: dict[str, object],
        allowed: str | None,
        extra: Headers = (),
    ) -> None:
        text = translate(message, self._locale(scope), **params)
        body = json.dumps({"error": {"code": code, "message": text}}).encode()
        await self._send(send, status, body, allowed, extra)

    def _retry_after(self, status: int) -> Headers:
        """When a refusal for a moment (an outage, a flood) may be tried again."""
        if status == 503:
            return [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
        if status == 429:
            return [(b"retry-after", str(self.path.flood_seconds_left()).encode())]
        return ()

    def _locale(self, scope: Scope) -> str:
        query = scope.get("query_string", b"").decode("latin-1")
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if name == "lang" and (chosen := normalise(value)):
                return chosen
        accept = next(
            (v.decode("latin-1") for n, v in scope["headers"] if n == b"accept-language"), None
        )
        return negotiate(accept, self.default_locale)


def _too_large() -> InvalidInput:
    return InvalidInput(N_("The report is too large."), "too_large")


async def _body(receive: Receive, length: bytes) -> bytes:
    """The request's body; a report larger than a beacon sends is refused before it is
    read (by its declared length) or as soon as it grows past the limit."""
    if length and (not length.isdigit() or int(length) > MAX_BEACON_BYTES):
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BEACON_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
