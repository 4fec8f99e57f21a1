"""Close and draw of a contest with a million eligible entries, against reading the rows
the draw needs into Python, on SQLite and on PostgreSQL.

Each measurement runs in a fresh process so that its peak memory is its own; the anchor
and Gymkana alternate (A, B, A, B, ...) on the same seeded database and the medians are
compared. Usage:

    python -m bench.close_draw [ENTRIES] [ROUNDS]

PostgreSQL is measured when BENCH_POSTGRES_URL (a server where databases can be created,
e.g. postgres://postgres@127.0.0.1:5432/postgres) is set.
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise

from contests import authoring, brands, closing, lifecycle
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.db import migrate, tortoise_config
from contests.queries import execute
from contests.settings import load_settings
from web.app import app_links

WINNERS = 5

SEED_ENTRIES = {
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO entry (contest_id, public_id, referral_code, status, locale, "
        "consent_version, consented_at, chain_hash, created_at) "
        "SELECT ?, lower(hex(randomblob(8))) || i, lower(hex(randomblob(12))) || i, "
        "'active', 'es', '1', ?, 'h', ? FROM n"
    ),
    "postgres": (
        "INSERT INTO entry (contest_id, public_id, referral_code, status, locale, "
        "consent_version, consented_at, chain_hash, created_at) "
        "SELECT ?, substr(md5(random()::text), 1, 16) || i, substr(md5(random()::text), 1, 20) "
        "|| i, 'active', 'es', '1', ?, 'h', ? FROM generate_series(1, ?) AS i"
    ),
}


async def seed(entries: int) -> int:
    now = utcnow()
    brand = await brands.create_brand(
        name=f"Bench {secrets.token_hex(3)}",
        domains=["shop.example.com"],
        reply_to="hi@shop.example.com",
        now=now,
    )
    contest = await authoring.create_contest(
        brand,
        ContestDraft("Bench contest", "", now - timedelta(minutes=1), now + timedelta(days=1)),
        actor="bench",
        now=now,
    )
    await authoring.add_prize(
        contest, name="Prize", description="", quantity=WINNERS, actor="bench", now=now
    )
    steps = [
        await authoring.add_step(
            contest,
            StepDraft("code", f"Step {n}", points=n, settings={"code": f"CODE{n}"}),
            actor="bench",
            now=now,
        )
        for n in (1, 2)
    ]
    # No beacon round: the benchmark times the close and the draw, not waiting for drand.
    await lifecycle.publish(contest, actor="bench", now=now, network=None)
    dialect = Tortoise.get_connection("default").capabilities.dialect
    values: list[object] = (
        [entries, contest.id, now, now] if dialect == "sqlite" else [contest.id, now, now, entries]
    )
    await execute(SEED_ENTRIES[dialect], values)
    for step in steps:
        await execute(
            "INSERT INTO completion (entry_id, step_id, points, completed_at) "
            "SELECT id, ?, ?, ? FROM entry WHERE contest_id = ?",
            [step.id, step.points, now, contest.id],
        )
    # As autovacuum would after a bulk load: the planner needs the tables' statistics.
    await execute("ANALYZE" if dialect == "postgres" else "ANALYZE main")
    return contest.id


async def _read(contest_id: int) -> None:
    rows = await execute(
        "SELECT e.public_id, e.status, c.step_id, c.points FROM entry e "
        "JOIN completion c ON c.entry_id = e.id WHERE e.contest_id = ?",
        [contest_id],
    )
    assert rows


async def _reopen(contest_id: int) -> None:
    """Undo the previous round's close and draw (not timed)."""
    await execute("UPDATE contest SET status = 'live', closed_at = NULL WHERE id = ?", [contest_id])
    for table in ("winner", "draw", "frozen_lines"):
        await execute(f"DELETE FROM {table} WHERE contest_id = ?", [contest_id])


async def _close_and_draw(contest_id: int) -> None:
    now = utcnow()
    settings = load_settings(secret_key="bench" * 8)
    await closing.close(contest_id, now)
    winners = await closing.run_draw(contest_id, now, links=app_links(settings))
    assert sum(not w.alternate for w in winners) == WINNERS, winners


def _prepare(database_url: str, entries: int, answer: object) -> None:
    answer.put(asyncio.run(prepare(database_url, entries)))  # type: ignore[attr-defined]


def _measure(database_url: str, contest_id: int, which: str, answer: object) -> None:
    async def run() -> tuple[float, float]:
        await Tortoise.init(config=tortoise_config(database_url))
        if which != "anchor":
            await _reopen(contest_id)
        started = time.perf_counter()
        if which == "anchor":
            await _read(contest_id)
        else:
            await _close_and_draw(contest_id)
        seconds = time.perf_counter() - started
        # The process's whole peak (the interpreter and its imports included), in KiB.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        await Tortoise.close_connections()
        return seconds, peak / 1024

    answer.put(asyncio.run(run()))  # type: ignore[attr-defined]


def in_process(target: Any, *args: object) -> Any:
    """Run ``target(*args, answer)`` in a fresh process and return what it put in answer:
    its peak memory is its own, and Tortoise, which keeps each model's queries for the
    first database it met, starts afresh for each database."""
    context = get_context("spawn")
    answer = context.Queue()
    process = context.Process(target=target, args=(*args, answer))
    process.start()
    process.join()
    if process.exitcode != 0:
        sys.exit(f"{target.__name__} failed (exit status {process.exitcode})")
    return answer.get()


def measure(database_url: str, contest_id: int, which: str) -> tuple[float, float]:
    result: tuple[float, float] = in_process(_measure, database_url, contest_id, which)
    return result


async def prepare(database_url: str, entries: int) -> int:
    await migrate(database_url)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        return await seed(entries)
    finally:
        await Tortoise.close_connections()


def compare(name: str, database_url: str, entries: int, rounds: int) -> None:
    started = time.perf_counter()
    contest_id: int = in_process(_prepare, database_url, entries)
    print(f"{name}: {entries:,} eligible entries seeded in {time.perf_counter() - started:.0f} s")
    anchor: list[tuple[float, float]] = []
    gymkana: list[tuple[float, float]] = []
    for _ in range(rounds):
        anchor.append(measure(database_url, contest_id, "anchor"))
        gymkana.append(measure(database_url, contest_id, "gymkana"))
    read_s = statistics.median(s for s, _ in anchor)
    read_mb = statistics.median(m for _, m in anchor)
    draw_s = statistics.median(s for s, _ in gymkana)
    draw_mb = statistics.median(m for _, m in gymkana)
    print(f"  read the rows (anchor) {read_s:7.2f} s {read_mb:7.0f} MB peak")
    print(f"  close + draw (Gymkana) {draw_s:7.2f} s {draw_mb:7.0f} MB peak")
    print(f"  ratio {draw_s / read_s:.2f}x the read (goal <= 2x, <= 300 MB)")


async def _postgres_database(server: str) -> str:
    name = f"gymkana_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.rsplit("/", 1)[0] + f"/{name}"


async def _drop_postgres_database(server: str, database_url: str) -> None:
    """Drop a database ``_postgres_database`` made: a million entries take gigabytes."""
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    folder = Path(tempfile.mkdtemp(prefix="gymkana-bench-"))
    try:
        compare("SQLite", f"sqlite://{folder / 'bench.sqlite3'}", entries, rounds)
    finally:
        shutil.rmtree(folder)
    server = os.environ.get("BENCH_POSTGRES_URL")
    if server:
        database_url = asyncio.run(_postgres_database(server))
        try:
            compare("PostgreSQL", database_url, entries, rounds)
        finally:
            asyncio.run(_drop_postgres_database(server, database_url))
    print(f"({WINNERS} winners and their alternates; medians of {rounds} alternating runs)")


if __name__ == "__main__":
    main()
