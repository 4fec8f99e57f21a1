"""Fixtures giving real parts: SQLite and PostgreSQL built from the migrations, Redis,
an SMTP server (aiosmtpd), the ASGI app and an arq worker."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from redis.asyncio import Redis
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from contests.db import close as close_database
from contests.db import migrate, tortoise_config
from contests.settings import Settings, load_settings
from web.app import create_app

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
SECRET = "test-secret-" + "x" * 40
ROOT = Path(__file__).resolve().parent.parent


def _postgres_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


def _backends() -> list[str]:
    if POSTGRES_URL and _postgres_reachable(POSTGRES_URL):
        return ["sqlite", "postgres"]
    if IN_CI:
        raise pytest.UsageError(
            "CI=true requires PostgreSQL: set TEST_POSTGRES_URL to a reachable server "
            f"(now {POSTGRES_URL or 'unset'})."
        )
    return ["sqlite"]


BACKENDS = _backends()


def pytest_report_header() -> list[str]:
    covered = " and ".join(BACKENDS)
    lines = [f"gymkana: databases covered: {covered}"]
    if "postgres" not in BACKENDS:
        lines.append("gymkana: PostgreSQL NOT covered (set TEST_POSTGRES_URL to cover it)")
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"gymkana: databases covered: {' and '.join(BACKENDS)}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture(scope="session")
def queue_name() -> str:
    return f"gymkana-test-{secrets.token_hex(4)}"


async def _create_postgres_database() -> tuple[str, str]:
    parts = urlsplit(POSTGRES_URL)
    name = f"gymkana_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return urlunsplit(parts._replace(path=f"/{name}")), name


async def _drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database built from the real migrations, on SQLite or PostgreSQL."""
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'gymkana.sqlite3'}"
    else:
        url, pg_name = await _create_postgres_database()
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    yield url
    await close_database()
    # Tortoise caches insert statements per connection name, not per dialect: the
    # next backend would get SQLite's placeholders.
    EXECUTOR_CACHE.clear()
    if pg_name:
        await _drop_postgres_database(pg_name)


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    redis_url: str,
    queue_name: str,
    smtp: tuple[Mailbox, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    return load_settings(
        media_dir=tmp_path_factory.mktemp("media"),
        secret_key=SECRET,
        database_url=database_url,
        redis_url=redis_url,
        queue_name=queue_name,
        base_url="http://testserver",
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        mail_from="Gymkana <contests@gymkana.test>",
        worker_poll_delay=0.02,
        # Contests published through the console draw at once, without waiting for a
        # beacon round; the beacon's own tests name one explicitly.
        draw_randomness="none",
        # Pages change under most tests without a console change (an entrant added
        # directly): they read every page fresh. tests/test_public_pages.py keeps them.
        public_page_seconds=0,
    )


@pytest.fixture(scope="session")
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    return smtp[0]


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings, manage_database=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(
        app=app, client=(f"10.0.{secrets.randbelow(250)}.{secrets.randbelow(250)}", 1234)
    )
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as http:
        yield http


@pytest.fixture(scope="session")
async def worker(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A real `gymkana worker` process on real Redis, against the test database."""
    async with running_worker(settings, tmp_path_factory.mktemp("worker")) as process:
        yield process


@asynccontextmanager
async def running_worker(
    settings: Settings, log_dir: Path
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A `gymkana worker` process with these settings until the block ends."""
    await _flush_queue(settings)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "QUEUE_NAME": settings.queue_name,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "SMTP_URL": settings.smtp_url,
        "MAIL_FROM": settings.mail_from,
        "WORKER_POLL_DELAY": str(settings.worker_poll_delay),
        # The brand pages of the installation check's tests are on loopback.
        "INSTALL_CHECK_ALLOW_PRIVATE": "true",
    }
    # Its log goes to a file: a pipe nobody reads would fill up and stall the worker.
    log_path = log_dir / "worker.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", "worker"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    redis = Redis.from_url(settings.redis_url)
    try:
        await eventually(lambda: redis.exists(f"{settings.queue_name}:health-check"), 20)
    except AssertionError:
        process.kill()
        log.close()
        raise AssertionError(f"the worker did not start:\n{log_path.read_text()}") from None
    finally:
        await redis.aclose()
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        await _flush_queue(settings)


async def _flush_queue(settings: Settings) -> None:
    """Remove this run's keys only: other runs may share the Redis database."""
    redis = Redis.from_url(settings.redis_url)
    patterns = [f"{settings.queue_name}*", f"arq:*:{settings.queue_name}:*"]
    try:
        keys = [k for pattern in patterns async for k in redis.scan_iter(pattern)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Wait for an async check to return something truthy (work done by the worker)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting after {timeout} s")
        await asyncio.sleep(interval)


@pytest.fixture(params=BACKENDS)
async def empty_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Makes databases with nothing in them yet, on SQLite or PostgreSQL; dropped afterwards."""
    made: list[str] = []

    async def make() -> str:
        if request.param == "sqlite":
            made.append(f"sqlite://{tmp_path / f'empty-{len(made)}.sqlite3'}")
            return made[-1]
        url, name = await _create_postgres_database()
        made.append(name)
        return url

    yield make
    if request.param == "postgres":
        for name in made:
            await _drop_postgres_database(name)
