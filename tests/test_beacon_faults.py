"""The beacon when its parts fail: Redis stopped and started again mid-run, the database
refusing for a while, and a report whose page the database cannot store. Every report
answered 202 ends as exactly one stored report and later exactly one completion; every
other is refused clearly (503 with Retry-After, or a 4xx), never dropped in silence."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from contests.models import Completion, Entry, Evidence, EvidenceStatus, Step
from contests.settings import Settings
from contests.steps import verdicts
from contests.steps.visit import visit_link_token
from contests.tokens import Tokens
from tests.conftest import POSTGRES_URL, ROOT, eventually
from tests.factories import BRAND_SITE, LINKS, brand_with_marketer, entrant, live_contest, step_of
from tests.support.flows import app_with

BRAND_ORIGIN = f"https://{BRAND_SITE}"
PAGE = f"{BRAND_ORIGIN}/origins?ref=contest"


def _tokens(app: Any) -> Tokens:
    tokens: Tokens = app.state.gymkana.tokens
    return tokens


def _nonce(app: Any, token: str) -> str:
    return str(_tokens(app).read("visit", token, 3600)["n"])


def _client(app: Any, n: int) -> httpx.AsyncClient:
    # Each visitor from an address of its own: the flood limit is not what is tested.
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(f"10.42.{n // 250}.{n % 250}", 1234)),
        base_url="http://testserver",
    )


async def _visit_tokens(app: Any, count: int) -> tuple[Step, list[tuple[Entry, str]]]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    step = await step_of(contest, "visit")
    tokens = []
    async with _client(app, 0) as client:
        for _ in range(count):
            entry = await entrant(contest)
            response = await client.get(f"/go/{visit_link_token(_tokens(app), entry, step)}")
            assert response.status_code == 303, response.text
            gk = parse_qs(urlsplit(response.headers["location"]).query)["gk"][0]
            tokens.append((entry, gk))
    return step, tokens


async def _beacon(app: Any, n: int, token: str, page: str = PAGE) -> httpx.Response:
    async with _client(app, n) as client:
        return await client.post(
            "/api/beacon",
            content=json.dumps({"token": token, "page": page}),
            headers={"Origin": BRAND_ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
        )


async def _send(app: Any, tokens: list[tuple[Entry, str]], start: int) -> list[httpx.Response]:
    return list(
        await asyncio.gather(*(_beacon(app, start + n, t) for n, (_, t) in enumerate(tokens)))
    )


def _assert_refused_clearly(response: httpx.Response) -> None:
    """A 503 the snippet can act on: when to try again, and why, in JSON."""
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"]["code"] == "store_unavailable"


async def _each_stored_once_then_verified_once(
    app: Any, step: Step, tokens: list[tuple[Entry, str]], *, judge_here: bool = True
) -> None:
    """Each report is one row, judged once: one verified report and one completion
    for each entry, whoever judges it (a worker running beside the test included);
    without ``judge_here``, only the worker judges."""
    nonces = [_nonce(app, token) for _, token in tokens]
    rows = await Evidence.filter(nonce__in=nonces).values_list("nonce", "entry_id")
    assert sorted(nonce for nonce, _ in rows) == sorted(nonces)
    assert sorted(entry_id for _, entry_id in rows) == sorted(entry.id for entry, _ in tokens)
    ids = list(await Evidence.filter(nonce__in=nonces).values_list("id", flat=True))

    async def judged() -> bool:
        if judge_here:
            await verdicts.verify_pending(links=LINKS, only=ids)  # type: ignore[arg-type]
        return not await Evidence.filter(id__in=ids, status=EvidenceStatus.PENDING).exists()

    await eventually(judged, timeout=60)
    verified = await Evidence.filter(id__in=ids, status=EvidenceStatus.VERIFIED).count()
    assert verified == len(tokens)
    completed = [row["entry_id"] for row in await Completion.filter(step=step).values("entry_id")]
    assert sorted(completed) == sorted(entry.id for entry, _ in tokens)


# Redis -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedis:
    """A Redis server of the test's own, on its own port, to stop and start again (it
    keeps nothing on disk: a restart loses every queued job, the worst case)."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self._directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = Redis.from_url(self.url)

        async def answers() -> bool:
            try:
                return bool(await client.ping())
            except OSError:
                return False
            except Exception:  # noqa: BLE001 - redis-py's own connection errors
                return False

        try:
            await eventually(answers, timeout=10)
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    await server.start()
    yield server
    server.stop()


def _start_worker(settings: Settings, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "QUEUE_NAME": settings.queue_name,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "WORKER_POLL_DELAY": "0.02",
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", "worker"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@contextmanager
def _worker(settings: Settings, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        process = _start_worker(settings, log)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def test_redis_restarting_mid_run_loses_no_accepted_beacon(
    settings: Settings, own_redis: OwnRedis, tmp_path: Path
) -> None:
    local = settings.model_copy(
        update={"redis_url": own_redis.url, "queue_name": f"{settings.queue_name}-redis"}
    )
    async with app_with(local, {}) as app:
        step, tokens = await _visit_tokens(app, 60)
        with _worker(local, tmp_path / "worker.log") as worker:
            before = await _send(app, tokens[:20], 0)
            own_redis.stop()
            # Redis is not on the beacon's path: reports are stored and answered while
            # it is down; their verification jobs are lost with it.
            during = await _send(app, tokens[20:40], 20)
            assert [r.status_code for r in before + during] == [202] * 40
            # Until the app's tries to queue their verification have ended (in failure).
            await app.state.beacon_path.close()
            await own_redis.start()
            # Nothing nudges the worker about the reports made while Redis was down: its
            # clock finds them by itself.
            await _each_stored_once_then_verified_once(app, step, tokens[:40], judge_here=False)
            after = await _send(app, tokens[40:], 40)
            assert [r.status_code for r in after] == [202] * 20
            await _each_stored_once_then_verified_once(app, step, tokens, judge_here=False)
            # The worker lived through the restart.
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()


# The database ------------------------------------------------------------------------


@asynccontextmanager
async def _postgres_refusing(database_url: str) -> AsyncIterator[None]:
    """The test database refuses every connection: those open are cut, new ones are
    turned away."""
    name = urlsplit(database_url).path.lstrip("/")
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        await admin.close()


@asynccontextmanager
async def _sqlite_refusing(database_url: str) -> AsyncIterator[None]:
    """Another process holds SQLite's write lock past every writer's busy timeout."""
    holder = sqlite3.connect(
        database_url.removeprefix("sqlite://"), isolation_level=None, check_same_thread=False
    )
    try:
        await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _refusing(database_url: str) -> Any:
    if database_url.startswith("postgres"):
        return _postgres_refusing(database_url)
    return _sqlite_refusing(database_url)


async def test_the_database_refusing_for_a_while_loses_no_accepted_beacon(
    app: Any, settings: Settings
) -> None:
    step, tokens = await _visit_tokens(app, 60)
    first, cut, refused, last = tokens[:20], tokens[20:30], tokens[30:45], tokens[45:]
    assert {r.status_code for r in await _send(app, first, 0)} == {202}

    async with _refusing(settings.database_url):
        # Reports in flight when the database goes: stored and 202, or refused.
        in_flight = asyncio.gather(*(_beacon(app, 20 + n, t) for n, (_, t) in enumerate(cut)))
        while_down = await _send(app, refused, 30)
    for response in while_down:
        _assert_refused_clearly(response)
    for response in await in_flight:
        if response.status_code != 202:
            _assert_refused_clearly(response)

    # Back: new reports are stored, and the snippet's second try of each refused one is
    # stored, or found already stored (409, as good for the snippet).
    assert {r.status_code for r in await _send(app, last, 45)} == {202}
    again = await _send(app, [*cut, *refused], 20)
    assert {r.status_code for r in again} <= {202, 409}
    accepted_once = sum(r.status_code == 202 for r in await in_flight) + sum(
        r.status_code == 202 for r in again
    )
    assert accepted_once == len(cut) + len(refused)
    await _each_stored_once_then_verified_once(app, step, tokens)


# A page the database cannot store ----------------------------------------------------


@pytest.mark.parametrize(
    "page",
    # Each would pass the page checks but for the character (a query parameter the
    # step does not ask for, or the fragment, does not count). PostgreSQL refuses a NUL
    # or a lone surrogate in text or JSON, and with it the whole batch.
    [PAGE + "&utm=\x00", PAGE + "#top\x00", PAGE + "#top\ud800", PAGE + "&utm=\udfff"],
    ids=["nul-in-query", "nul-in-fragment", "lone-high-surrogate", "lone-low-surrogate"],
)
async def test_a_page_the_database_cannot_store_is_refused_alone(app: Any, page: str) -> None:
    step, tokens = await _visit_tokens(app, 21)
    (bad_entry, bad), good = tokens[0], tokens[1:]
    # Sent together: the bad report would share a batch with good ones.
    answers = await asyncio.gather(
        *(_beacon(app, n, token) for n, (_, token) in enumerate(good[:10], 1)),
        _beacon(app, 0, bad, page),
        *(_beacon(app, n, token) for n, (_, token) in enumerate(good[10:], 11)),
    )
    refusal = answers[10]
    # No browser's address holds such a character: it is not an address on the site.
    assert refusal.status_code == 403, refusal.text
    assert refusal.json()["error"]["code"] == "bad_page"
    assert [a.status_code for a in answers[:10] + answers[11:]] == [202] * len(good)
    assert not await Evidence.filter(entry=bad_entry).exists()
    await _each_stored_once_then_verified_once(app, step, good)


async def test_an_escaped_nul_in_a_page_is_only_text(app: Any) -> None:
    """``%00`` is three characters of an address, stored and judged as any other."""
    step, tokens = await _visit_tokens(app, 11)
    escaped = PAGE + "&utm=%00"
    answers = await asyncio.gather(
        *(_beacon(app, n, t, escaped if n == 5 else PAGE) for n, (_, t) in enumerate(tokens))
    )
    assert [a.status_code for a in answers] == [202] * len(tokens)
    await _each_stored_once_then_verified_once(app, step, tokens)
