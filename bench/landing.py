"""The contest page under a crowd: `GET /c/<slug>` through `gymkana serve` on PostgreSQL,
signed out and signed in, against a bare Starlette app serving the same bytes from
memory on the same HTTP server.

wrk (Debian's; installed with apt-get when missing) loads each side in turn, A, B, A, B,
..., while every server stays up, and the medians are compared. Usage:

    python -m bench.landing [SECONDS] [ROUNDS]      the page against its anchor
    python -m bench.landing --servers [SECONDS] [ROUNDS]
                                                    granian against uvicorn, same load

It makes a PostgreSQL database of its own on BENCH_POSTGRES_URL (a server where
databases can be created; by default postgres://postgres@127.0.0.1:5432/postgres) and
uses a queue name of its own on REDIS_URL (by default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from tortoise import Tortoise

from contests import authoring, brands, entries, lifecycle
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.db import migrate, tortoise_config
from oauth import sessions
from oauth.identities import Profile, sign_in
from web.app import app_routes
from web.links import AppLinks
from web.serve import DEFAULT_SERVER, SERVERS, Server

LINKS = AppLinks(Router(app_routes()), "http://127.0.0.1")

ROOT = Path(__file__).resolve().parent.parent
ANCHOR_FILE = "BENCH_ANCHOR_FILE"
CONNECTIONS = 50
GOAL = 0.5


def anchor() -> Starlette:
    """The floor: the page's bytes, read once, answered from memory by bare Starlette."""
    body = Path(os.environ[ANCHOR_FILE]).read_bytes()

    async def page(request: Request) -> Response:
        return Response(body, media_type="text/html")

    return Starlette(routes=[Route("/c/{slug}", page)])


async def seed(database_url: str) -> tuple[str, str]:
    """A live contest like a real one (five steps, two prizes) and a participant who
    entered it and did two steps, signed in: the slug and the session id."""
    await migrate(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        now = utcnow()
        brand = await brands.create_brand(
            name="Bench brand",
            domains=["shop.example.com"],
            reply_to="hi@shop.example.com",
            now=now,
        )
        contest = await authoring.create_contest(
            brand,
            ContestDraft(
                "The big summer gymkana",
                "Five clues across our shops and our site; every point is one more chance.",
                now - timedelta(minutes=1),
                now + timedelta(days=7),
            ),
            actor="bench",
            now=now,
        )
        for name in ("A bicycle", "A weekend for two"):
            await authoring.add_prize(
                contest, name=name, description="", quantity=1, actor="bench", now=now
            )
        steps = [
            await authoring.add_step(
                contest,
                StepDraft(
                    "code",
                    f"Clue {number}",
                    "Look behind the counter",
                    settings={"code": f"C{number}"},
                ),
                actor="bench",
                now=now,
            )
            for number in range(5)
        ]
        await lifecycle.publish(contest, actor="bench", now=now)
        person = await sign_in(
            Profile("email", "bench@example.com", "bench@example.com", True, "Bench"),
            locale="en",
            now=now,
        )
        entry = await entries.enter(contest, person, consented=True, locale="en", now=now)
        for step in steps[:2]:
            await entries.record_completion(entry, step, now, links=LINKS)
        session = await sessions.start(person, now=now, max_age=timedelta(hours=2))
        return contest.slug, session.id
    finally:
        await Tortoise.close_connections()


async def _database(server: str) -> str:
    name = f"gymkana_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.rsplit("/", 1)[0] + f"/{name}"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is needed: apt-get install wrk (as root), then run this again.")
    print("Installing wrk with apt-get ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(command: list[str], env: dict[str, str], base: str) -> Iterator[str]:
    """A server process until the block ends; yields once {base}/ answers at all."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(base, timeout=2)
                    break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    sys.exit(f"{' '.join(command)} did not start:\n{log.read().decode()}")
                time.sleep(0.2)
            yield base
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Run:
    rate: float
    p99_ms: float


def load(wrk: str, url: str, seconds: int, headers: dict[str, str]) -> Run:
    # A slow answer is measured, not dropped as an error.
    command = [
        wrk,
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        url,
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        sys.exit(f"errors under load at {url}:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    if not rate or not p99 or float(rate.group(1)) == 0:
        sys.exit(f"unexpected wrk output:\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return Run(float(rate.group(1)), float(p99.group(1)) * scale)


def gymkana_command(server: Server, port: int) -> list[str]:
    code = "from web.cli import main; main()"
    options = ["--no-migrate", "--port", str(port), "--server", server]
    return [sys.executable, "-c", code, "serve", *options]


def anchor_command(server: Server, port: int) -> list[str]:
    code = (
        "import sys; from web.serve import serve; "
        "serve('bench.landing:anchor', server=sys.argv[1], host='127.0.0.1', "
        "port=int(sys.argv[2]), processes=1)"
    )
    return [sys.executable, "-c", code, server, str(port)]


def session_cookie(secret: str, session_id: str) -> str:
    """The cookie a signed-in browser sends, as Starlette's SessionMiddleware writes it."""
    payload = base64.b64encode(json.dumps({"sid": session_id}).encode())
    return "gymkana=" + TimestampSigner(secret).sign(payload).decode()


def environment(database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "QUEUE_", "WEB_", "PUBLIC_PAGE"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        QUEUE_NAME=f"bench-landing-{secrets.token_hex(3)}",
        SECRET_KEY=secrets.token_urlsafe(40),
        WEB_PROCESSES="1",
    )
    return env


def report(name: str, runs: list[Run], floor: float | None) -> None:
    rate = statistics.median(r.rate for r in runs)
    p99 = statistics.median(r.p99_ms for r in runs)
    ratio = f"{rate / floor:7.1%}" if floor else "       "
    print(f"  {name:<34} {rate:>9,.0f} req/s  p99 {p99:7.1f} ms  {ratio}", flush=True)


def main() -> None:
    args = sys.argv[1:]
    compare_servers = "--servers" in args
    args = [a for a in args if a != "--servers"]
    seconds = int(args[0]) if args else 10
    rounds = int(args[1]) if len(args) > 1 else 3
    wrk = ensure_wrk()
    server_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    database_url = asyncio.run(_database(server_url))
    try:
        measure(wrk, database_url, seconds, rounds, compare_servers=compare_servers)
    finally:
        asyncio.run(_drop(server_url, database_url))


async def _drop(server: str, database_url: str) -> None:
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}"')
    finally:
        await admin.close()


def measure(
    wrk: str, database_url: str, seconds: int, rounds: int, *, compare_servers: bool
) -> None:
    slug, session_id = asyncio.run(seed(database_url))
    env = environment(database_url)
    signed_in = {"Cookie": session_cookie(env["SECRET_KEY"], session_id), "Accept-Language": "en"}
    signed_out = {"Accept-Language": "en"}
    path = f"/c/{slug}"
    print(
        f"PostgreSQL, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} before), "
        f"wrk -t1 -c{CONNECTIONS}, {seconds} s runs"
    )
    with ExitStack() as stack:
        if compare_servers:
            sides: dict[str, tuple[str, dict[str, str]]] = {}
            for server in SERVERS:
                port = free_port()
                base = stack.enter_context(
                    running(gymkana_command(server, port), env, f"http://127.0.0.1:{port}/healthz")
                )
                base = base.removesuffix("/healthz")
                sides[f"{server}, signed out"] = (base + path, signed_out)
                sides[f"{server}, signed in"] = (base + path, signed_in)
        else:
            port = free_port()
            base = stack.enter_context(
                running(
                    gymkana_command(DEFAULT_SERVER, port), env, f"http://127.0.0.1:{port}/healthz"
                )
            ).removesuffix("/healthz")
            page = httpx.get(base + path, headers=signed_out)
            assert page.status_code == 200 and "set-cookie" not in page.headers, page.headers
            body = Path(tempfile.mkstemp(prefix="gymkana-landing-", suffix=".html")[1])
            body.write_bytes(page.content)
            anchor_port = free_port()
            anchor_base = stack.enter_context(
                running(
                    anchor_command(DEFAULT_SERVER, anchor_port),
                    {**env, ANCHOR_FILE: str(body)},
                    f"http://127.0.0.1:{anchor_port}{path}",
                )
            )
            sides = {
                "anchor (same bytes from memory)": (anchor_base, signed_out),
                "Gymkana, signed out": (base + path, signed_out),
                "Gymkana, signed in": (base + path, signed_in),
            }
            print(f"server: {DEFAULT_SERVER}; page: {len(page.content):,} bytes")
        results: dict[str, list[Run]] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, (url, headers) in sides.items():
                results[name].append(load(wrk, url, seconds, headers))
    floor = statistics.median(r.rate for r in next(iter(results.values())))
    for name, runs in results.items():
        report(name, runs, None if compare_servers else floor)
    if compare_servers:
        first, second = SERVERS

        def rate(name: str) -> float:
            return statistics.median(r.rate for r in results[name])

        for who in ("signed out", "signed in"):
            ratio = rate(f"{first}, {who}") / rate(f"{second}, {who}")
            print(f"  {first} / {second}, {who}: {ratio:.2f}x")
    else:
        print(f"  (ratios against the anchor; goal for signed out >= {GOAL:.0%})")
    print(f"(medians of {rounds} alternating runs; load average {os.getloadavg()[0]:.1f} after)")


if __name__ == "__main__":
    main()
