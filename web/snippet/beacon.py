"""The beacon: the snippet reports a visit that lasted long enough.

The hot path reads nothing from the database and makes no Redis round trip of its own:
the token's signature and age are checked in process, the step's facts (settings,
contest open, brand domains) come from a cache of a few seconds, a flood from one
client address is cut by a counter in process, and the report joins the next batch
written in one statement (``contests.group_commit``). The answer, 202, comes only once
that statement has returned: an accepted report is a row in the database. When the
database cannot take it the answer is 503 and the snippet tries again.

A worker is told once per batch (one job for many reports); when Redis is down the
worker's clock finds the pending reports by itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from limits import parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contests import jobs
from contests.clock import utcnow
from contests.errors import N_, InvalidInput, RateLimited, Unavailable
from contests.group_commit import GroupCommit
from contests.settings import Settings
from contests.steps import visit_reports
from contests.steps.visit_facts import VisitFactsCache
from contests.steps.visit_reports import StoredReport, VisitReport
from web.forms import small_json
from web.ratelimit import client_address
from web.snippet.cors import allow_origin
from web.state import AppState, app_state

log = logging.getLogger("gymkana.beacon")

MAX_BEACON_BYTES = 4096


class Nudge:
    """Tells the verification lane that reports wait: at most one enqueue in flight, and
    one more after it if reports arrived meanwhile (their batch's first id names the job)."""

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


class BeaconPath:
    """What one web process keeps for the beacon: the facts cache, the batch writer, the
    flood counter and the nudge to the workers."""

    def __init__(self, state: AppState) -> None:
        settings: Settings = state.settings
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


def beacon_path(request: Request) -> BeaconPath:
    """The process's beacon path, made on first use."""
    path: BeaconPath | None = getattr(request.app.state, "beacon_path", None)
    if path is None:
        path = BeaconPath(app_state(request))
        request.app.state.beacon_path = path
    return path


async def beacon(request: Request) -> Response:
    """The snippet reports a visit; a worker verifies it before it counts."""
    state = app_state(request)
    path = beacon_path(request)
    path.count(client_address(request))
    body = await request.body()
    if len(body) > MAX_BEACON_BYTES:
        raise InvalidInput(N_("The report is too large."), "too_large")
    try:
        data = small_json(body)
        token, page_url = str(data["token"]), str(data["page"])
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InvalidInput(
            N_("The report must be JSON with “token” and “page”."), "bad_beacon"
        ) from None
    payload = visit_reports.read_visit_token(state.tokens, token)
    try:
        facts = await path.facts.get(str(payload.get("s")))
    except Exception as exc:  # noqa: BLE001 - any database failure: refuse, never a 500
        log.warning("could not read a visit step's facts: %s", exc)
        raise Unavailable(
            N_("This is not available for a moment. Please try again in a minute."),
            "store_unavailable",
        ) from None
    origin = request.headers.get("origin")
    report = visit_reports.check_report(
        facts, payload, origin=origin, page_url=page_url, now=utcnow()
    )
    if origin:
        # The origin is the brand's (checked above): the snippet may read what follows,
        # a 409 or a 503 included.
        allow_origin(request, origin)
    visit_reports.outcome_or_error(await path.batches.submit(report))
    return JSONResponse({"status": "received"}, status_code=202)
