"""The visit beacon under load, against a bare Starlette POST answering 204 on the same
server, then the worker draining what the beacon accepted.

It makes its own PostgreSQL database and uses a Redis database number of its own, seeds
a live contest with one entry per visit token, writes a wrk Lua script that sends each
token once, and runs the anchor and Gymkana alternately (A, B, A, B, ...) with ``wrk``
(installed from Debian with apt-get when missing). It prints requests per second, the
99th percentile latency and the ratio, then starts a worker and counts: accepted (202),
recorded (reports stored), verified, rejected, lost (accepted but not stored, or stored
but never judged: must be 0), and the worker's drain rate. Usage:

    python -m bench.beacon [--seconds 10] [--rounds 2] [--connections 64]
                           [--server granian|uvicorn] [--processes 1] [--workers 1]

BENCH_POSTGRES_URL names a server where databases can be created (default
postgres://postgres@127.0.0.1:5432/postgres); BENCH_REDIS_URL the Redis database
(default redis://127.0.0.1:6379/13).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise import Tortoise

from contests import authoring, brands, lifecycle
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.db import migrate, tortoise_config
from contests.queries import execute
from contests.settings import load_settings
from contests.tokens import Tokens

ROOT = Path(__file__).resolve().parent.parent
SITE = "shop.example.com"
PAGE = f"https://{SITE}/origins"
SECRET = "bench-secret-" + "x" * 40
THREADS = 2
# Tokens to make per second of Gymkana's runs: above what the beacon could accept.
TOKENS_PER_SECOND = 12_000

LUA = r"""
-- Each request sends the next visit token, each token once; statuses are counted.
local tokens = {}
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = 0
  for line in io.lines(args[1]) do
    n = n + 1
    if n % tonumber(args[2]) == id - 1 then tokens[#tokens + 1] = line end
  end
  next_token = 1
  statuses = {}
  exhausted = 0
end

function request()
  local token = tokens[next_token]
  if token == nil then
    exhausted = exhausted + 1
    token = tokens[1]
  else
    next_token = next_token + 1
  end
  return wrk.format("POST", "/api/beacon",
    {["Content-Type"] = "text/plain;charset=UTF-8", ["Origin"] = "https://SITE"},
    '{"token":"' .. token .. '","page":"PAGE"}')
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  local spent = 0
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, count in pairs(s) do total[status] = (total[status] or 0) + count end
    spent = spent + thread:get("exhausted")
  end
  for status, count in pairs(total) do io.write(string.format("status %d %d\n", status, count)) end
  io.write(string.format("exhausted %d\n", spent))
end
"""


def anchor_app() -> Starlette:
    """The anchor: a bare Starlette POST that reads the body and answers 204."""

    async def beacon(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    return Starlette(routes=[Route("/api/beacon", beacon, methods=["POST"])])


def gymkana_app() -> Starlette:
    """The real app, configured from the environment the benchmark sets."""
    from web.app import create_app

    return create_app(load_settings())


def _ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's wrk with apt-get")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_command(server: str, factory: str, port: int, processes: int) -> list[str]:
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(processes),
            "--no-ws", "--log-level", "warning", factory,
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(processes), "--loop", "uvloop",
        "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


class Server:
    """A server process answering on a port of its own, stopped on leaving."""

    def __init__(self, command: list[str], env: dict[str, str], port: int) -> None:
        self.command, self.env, self.port = command, env, port
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    time.sleep(0.5)
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        sys.exit(f"the server did not start: {' '.join(self.command)}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wrk(
    wrk: str, script: Path, tokens: Path, port: int, seconds: int, connections: int
) -> dict[str, Any]:
    out = subprocess.run(
        [
            wrk, f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "-s", str(script), f"http://127.0.0.1:{port}", "--", str(tokens), str(THREADS),
        ],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    statuses = {int(s): int(n) for s, n in re.findall(r"status (\d+) (\d+)", out)}
    errors = re.search(r"Socket errors: (.*)", out)
    exhausted = int(re.search(r"exhausted (\d+)", out).group(1))  # type: ignore[union-attr]
    return {
        "rate": rate,
        "p99_ms": p99_ms,
        "statuses": statuses,
        "exhausted": exhausted,
        "errors": errors.group(1) if errors else "",
    }


async def _database(server: str) -> str:
    name = f"gymkana_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.rsplit("/", 1)[0] + f"/{name}"


async def _drop_database(server: str, url: str) -> None:
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


async def seed(database_url: str, entries: int, tokens_files: list[Path]) -> int:
    """A live contest on a brand at SITE, with a visit step and a code step, ``entries``
    entries, and one visit token per entry, shared out between ``tokens_files`` (one per
    run: each token is sent once). Returns the visit step's id."""
    await migrate(database_url)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        now = utcnow()
        brand = await brands.create_brand(
            name=f"Bench {secrets.token_hex(3)}", domains=[SITE], reply_to=f"hi@{SITE}", now=now
        )
        contest = await authoring.create_contest(
            brand,
            ContestDraft("Bench contest", "", now - timedelta(minutes=1), now + timedelta(days=1)),
            actor="bench",
            now=now,
        )
        await authoring.add_prize(
            contest, name="Prize", description="", quantity=1, actor="bench", now=now
        )
        # The visit is one step of a gymkana: a code step is required too, so verifying
        # a visit does not by itself put the entry in the draw (no email per visit).
        visit = await authoring.add_step(
            contest,
            StepDraft("visit", "Visit", settings={"target_url": PAGE, "dwell_seconds": 0}),
            actor="bench",
            now=now,
        )
        await authoring.add_step(
            contest,
            StepDraft("code", "Code", settings={"code": "BENCH"}),
            actor="bench",
            now=now,
        )
        await lifecycle.publish(contest, actor="bench", now=now)
        await execute(
            "INSERT INTO entry (contest_id, public_id, referral_code, status, locale, "
            "consent_version, consented_at, chain_hash, created_at) "
            "SELECT ?, 'b' || lpad(i::text, 15, '0'), 'r' || lpad(i::text, 19, '0'), "
            "'active', 'es', '1', ?, 'h', ? FROM generate_series(1, ?) AS i",
            [contest.id, now, now - timedelta(hours=1), entries],
        )
        await execute("ANALYZE")
        tokens = Tokens(SECRET)
        started = now.timestamp() - 60
        outs = [path.open("w") for path in tokens_files]
        try:
            for i in range(1, entries + 1):
                payload = {
                    "e": f"b{i:015d}",
                    "s": visit.public_id,
                    "t": started,
                    "n": secrets.token_hex(8),
                }
                outs[i % len(outs)].write(tokens.sign("visit", payload) + "\n")
        finally:
            for out in outs:
                out.close()
        return visit.id
    finally:
        await Tortoise.close_connections()


async def _count(database_url: str, sql: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


async def drain(database_url: str, env: dict[str, str], workers: int) -> dict[str, float]:
    """Start ``workers`` worker processes on the backlog and time them until every report
    has its verdict."""
    pending_sql = "SELECT count(*) FROM evidence WHERE status = 'pending'"
    backlog = await _count(database_url, pending_sql)
    processes = [
        subprocess.Popen(  # noqa: ASYNC220 - started before the timing
            [sys.executable, "-c", "from web.cli import main; main()", "worker"],
            env=env,
            cwd=ROOT,
        )
        for _ in range(workers)
    ]
    try:
        started = time.monotonic()
        first = None
        deadline = started + 600
        while time.monotonic() < deadline:
            left = await _count(database_url, pending_sql)
            if first is None and left < backlog:
                first = time.monotonic()
            if left == 0:
                break
            await asyncio.sleep(0.05)
        finished = time.monotonic()
    finally:
        for worker in processes:
            worker.send_signal(signal.SIGTERM)
        for worker in processes:
            worker.wait(timeout=30)
    judged_from = first or started
    return {
        "backlog": backlog,
        "seconds": finished - judged_from,
        "rate": backlog / max(finished - judged_from, 1e-9),
        "start_seconds": judged_from - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="anchor/Gymkana pairs")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="granian")
    parser.add_argument("--processes", type=int, default=1, help="server processes")
    parser.add_argument("--workers", type=int, default=1, help="worker processes draining")
    args = parser.parse_args()

    wrk = _ensure_wrk()
    pg_server = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    folder = Path(tempfile.mkdtemp(prefix="gymkana-bench-beacon-"))
    script = folder / "beacon.lua"
    tokens_files = [folder / f"tokens-{n}.txt" for n in range(args.rounds)]
    script.write_text(LUA.replace("SITE", SITE).replace("PAGE", PAGE))
    entries = TOKENS_PER_SECOND * args.seconds * args.rounds
    database_url = asyncio.run(_database(pg_server))
    queue_name = f"bench-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_NAME": queue_name,
        "SECRET_KEY": SECRET,
        "BASE_URL": "http://127.0.0.1:8000",
        # wrk sends everything from one address: the flood limit would measure itself.
        "BEACON_LIMIT": "100000000/minute",
        "PYTHONPATH": str(ROOT),
    }
    try:
        started = time.monotonic()
        visit_step = asyncio.run(seed(database_url, entries, tokens_files))
        print(f"seeded {entries:,} entries and tokens in {time.monotonic() - started:.0f} s")
        anchor: list[dict[str, Any]] = []
        gymkana: list[dict[str, Any]] = []
        for tokens_file in tokens_files:
            for which, runs in (("anchor", anchor), ("gymkana", gymkana)):
                port = _free_port()
                factory = f"bench.beacon:{which}_app"
                command = _server_command(args.server, factory, port, args.processes)
                with Server(command, env, port):
                    result = _wrk(wrk, script, tokens_file, port, args.seconds, args.connections)
                runs.append(result)
                print(
                    f"  {which:8} {result['rate']:9,.0f} req/s  p99 {result['p99_ms']:7.1f} ms  "
                    f"statuses {result['statuses']}"
                    + (f"  socket errors: {result['errors']}" if result["errors"] else "")
                )
        a_rate = statistics.median(r["rate"] for r in anchor)
        g_rate = statistics.median(r["rate"] for r in gymkana)
        print(
            f"beacon ({args.server}, {args.processes} process(es), {args.connections} connections, "
            f"medians of {args.rounds} alternating {args.seconds} s runs):"
        )
        a_p99 = statistics.median(r["p99_ms"] for r in anchor)
        g_p99 = statistics.median(r["p99_ms"] for r in gymkana)
        print(f"  anchor  {a_rate:9,.0f} req/s  p99 {a_p99:7.1f} ms")
        print(f"  Gymkana {g_rate:9,.0f} req/s  p99 {g_p99:7.1f} ms")
        print(f"  ratio   {g_rate / a_rate:9.1%}  (goal >= 70 %)")
        if any(r["exhausted"] for r in gymkana):
            print("  WARNING: the tokens ran out; some requests were replays")

        accepted = sum(r["statuses"].get(202, 0) for r in gymkana)
        refused = sum(n for r in gymkana for s, n in r["statuses"].items() if s != 202)
        recorded = asyncio.run(_count(database_url, "SELECT count(*) FROM evidence"))
        result = asyncio.run(drain(database_url, env, args.workers))
        verified = asyncio.run(
            _count(database_url, "SELECT count(*) FROM evidence WHERE status = 'verified'")
        )
        rejected = asyncio.run(
            _count(database_url, "SELECT count(*) FROM evidence WHERE status = 'rejected'")
        )
        completions = asyncio.run(
            _count(database_url, f"SELECT count(*) FROM completion WHERE step_id = {visit_step}")
        )
        lost = max(0, accepted - recorded) + (recorded - verified - rejected)
        print(f"{args.workers} worker process(es), from the backlog the beacon left:")
        print(
            f"  accepted {accepted:,}  refused {refused:,}  recorded {recorded:,}  "
            f"verified {verified:,}  rejected {rejected:,}  completions {completions:,}  "
            f"lost {lost:,}"
        )
        print(
            f"  drained {result['backlog']:,.0f} reports in {result['seconds']:.2f} s: "
            f"{result['rate']:,.0f} verified/s (goal >= 5,000/s and above the beacon's "
            f"{g_rate:,.0f} req/s); first verdict {result['start_seconds']:.1f} s after start"
        )
    finally:
        asyncio.run(_flush(redis_url, queue_name))
        asyncio.run(_drop_database(pg_server, database_url))
        shutil.rmtree(folder, ignore_errors=True)


async def _flush(redis_url: str, queue_name: str) -> None:
    """Remove this run's keys only."""
    redis = Redis.from_url(redis_url)
    try:
        for pattern in (f"{queue_name}*", f"arq:*:{queue_name}:*"):
            async for key in redis.scan_iter(match=pattern, count=1000):
                await redis.delete(key)
    finally:
        await redis.aclose()


if __name__ == "__main__":
    main()
