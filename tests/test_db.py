"""Migrations run once, under a database lock: processes started together on an empty
database all come up, and a process that does not migrate waits for the migrations or
says what to run."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx

from contests.settings import Settings
from tests.conftest import ROOT, SECRET
from tests.support.servers import free_port

# Unlocked, two processes on one empty database collide nearly every time; several
# pairs make a single lucky interleaving unable to hide a missing lock.
PAIRS = 3
MIGRATIONS = sorted(path.stem for path in (ROOT / "contests" / "migrations").glob("[0-9]*.py"))


def _environment(**values: str) -> dict[str, str]:
    """The machine's environment without any Gymkana setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(PYTHONPATH=str(ROOT), SECRET_KEY=SECRET, **values)
    return env


async def _start(cwd: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    # An empty working folder, so that no `.env` file is read.
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from web.cli import main; main()",
        *args,
        cwd=cwd,
        env=_environment(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _run(cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    process = await _start(cwd, *args, **env)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def _healthy(serve: asyncio.subprocess.Process, port: int) -> None:
    """Wait until `gymkana serve` answers /healthz with 200; fail if it exits first."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(300):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if serve.returncode is not None:
                output = await serve.stdout.read() if serve.stdout else b""
                raise AssertionError(f"gymkana serve exited:\n{output.decode()}")
            await asyncio.sleep(0.1)
    raise AssertionError("gymkana serve did not come up")


async def _applied(database_url: str) -> list[str]:
    """The migrations recorded as applied, one row each time one was applied."""
    query = "SELECT name FROM tortoise_migrations ORDER BY name"
    if database_url.startswith("sqlite://"):
        with sqlite3.connect(database_url.removeprefix("sqlite://")) as connection:
            return [str(name) for (name,) in connection.execute(query)]
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return [str(row["name"]) for row in await connection.fetch(query)]
    finally:
        await connection.close()


async def test_processes_migrating_an_empty_database_together_all_succeed(
    empty_databases: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    urls = [await empty_databases() for _ in range(PAIRS)]
    results = await asyncio.gather(
        *(_run(tmp_path, "migrate", DATABASE_URL=url) for url in urls for _ in range(2))
    )
    for returncode, output in results:
        assert returncode == 0, output
        assert "Database is up to date." in output
    for url in urls:
        assert await _applied(url) == MIGRATIONS


async def test_two_web_processes_started_together_on_an_empty_database_both_come_up(
    empty_databases: Callable[[], Awaitable[str]], tmp_path: Path, redis_url: str
) -> None:
    database_url = await empty_databases()
    ports = [free_port(), free_port()]
    processes = [
        await _start(
            tmp_path, "serve", "--port", str(port), DATABASE_URL=database_url, REDIS_URL=redis_url
        )
        for port in ports
    ]
    try:
        await asyncio.gather(*(_healthy(p, port) for p, port in zip(processes, ports, strict=True)))
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await process.communicate()
    assert await _applied(database_url) == MIGRATIONS


async def test_serving_without_migrating_waits_for_the_migrations_then_answers(
    tmp_path: Path, redis_url: str
) -> None:
    database_url = f"sqlite://{tmp_path / 'gymkana.sqlite3'}"
    port = free_port()
    serve = await _start(
        tmp_path,
        "serve",
        "--no-migrate",
        "--port",
        str(port),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
    )
    assert serve.stdout is not None
    try:
        seen = ""
        while "waiting up to" not in seen:
            line = await asyncio.wait_for(serve.stdout.readline(), 30)
            assert line, f"gymkana serve stopped instead of waiting:\n{seen}"
            seen += line.decode()
        assert "gymkana migrate" in seen

        returncode, output = await _run(tmp_path, "migrate", DATABASE_URL=database_url)
        assert returncode == 0, output

        await _healthy(serve, port)
    finally:
        serve.terminate()
        await serve.communicate()
    assert await _applied(database_url) == MIGRATIONS


async def test_a_worker_with_migrations_pending_says_what_to_run(
    tmp_path: Path, redis_url: str
) -> None:
    returncode, output = await _run(
        tmp_path,
        "worker",
        "--migration-wait",
        "0",
        DATABASE_URL=f"sqlite://{tmp_path / 'gymkana.sqlite3'}",
        REDIS_URL=redis_url,
    )
    assert returncode != 0
    assert "lacks migrations 0001_initial" in output
    assert "Run `gymkana migrate`" in output
    assert "Traceback" not in output
