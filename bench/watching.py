"""The console's watching pages on large contests: the dashboard's figures, the first and
a deep page of opinion answers, and the review queue, at 10,000 and 1,000,000 entrants
(a funnel of completions, one answer in five, a flag in fifty, a referral in four),
on SQLite and on PostgreSQL. Prints milliseconds per call (median of several), the
ratio to the smaller contest, and the dashboard against a bare count of the contest's
entries (the anchor) and against counting its entries and completions as the dashboard
did before it kept running counts. Goal: the dashboard under 200 ms at a million.

    python -m bench.watching [SMALL LARGE]

PostgreSQL is measured when BENCH_POSTGRES_URL (a server where databases can be created,
e.g. postgres://postgres@127.0.0.1:5432/postgres) is set.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections

from bench.close_draw import _drop_postgres_database, _postgres_database
from contests import answers, authoring, brands, dashboard, lifecycle, review, tallies
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.db import migrate, tortoise_config
from contests.models import Contest, Step
from contests.queries import execute

SIZES = (10_000, 1_000_000)
ROUNDS = 5
BATCH = 5_000


async def _many(sql: str, rows: list[list[Any]]) -> None:
    """One statement for many rows, written with ``?`` placeholders as for ``execute``."""
    client = connections.get("default")
    if client.capabilities.dialect == "postgres":
        parts = sql.split("?")
        sql = "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]
        # asyncpg takes each value as the column's own type.
        rows = [[_typed(value) for value in row] for row in rows]
    await client.execute_many(sql, rows)


def _typed(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 19 and value[4] == "-" and value[10] == " ":
        return datetime.fromisoformat(value)
    return value


async def seed(size: int) -> Contest:
    now = utcnow()
    brand = await brands.create_brand(
        name=f"Bench {secrets.token_hex(3)}",
        domains=["shop.example.com"],
        reply_to="hi@shop.example.com",
        now=now,
    )
    contest = await authoring.create_contest(
        brand,
        ContestDraft("Bench", "", now - timedelta(days=30), now + timedelta(days=1)),
        actor="bench",
        now=now - timedelta(days=31),
    )
    await authoring.add_prize(contest, name="Prize", description="", quantity=1, actor="b", now=now)
    for number in range(3):
        await authoring.add_step(
            contest,
            StepDraft("code", f"Step {number}", "A clue", settings={"code": f"CODE{number}"}),
            actor="bench",
            now=now,
        )
    await authoring.add_step(
        contest,
        StepDraft("opinion", "Tell us", "", required=False, settings={"question": "Why?"}),
        actor="bench",
        now=now,
    )
    await lifecycle.publish(contest, actor="bench", now=now)
    steps = await Step.filter(contest=contest).order_by("position")
    client = connections.get("default")
    postgres = client.capabilities.dialect == "postgres"
    if postgres:
        # Loaded in bulk as a restore would, then counted once as migration 0017 does;
        # on SQLite the triggers count every row as it comes.
        await execute("ALTER TABLE entry DISABLE TRIGGER USER")
        await execute("ALTER TABLE completion DISABLE TRIGGER USER")
        await execute("ALTER TABLE referral DISABLE TRIGGER USER")
    for start in range(0, size, BATCH):
        rows = []
        for n in range(start, min(size, start + BATCH)):
            when = (now - timedelta(minutes=n * 43_200 // size)).isoformat(sep=" ")
            rows.append(
                [
                    contest.id,
                    secrets.token_hex(8),
                    "active",
                    "es",
                    "1",
                    when,
                    "0" * 64,
                    when,
                    secrets.token_hex(8),
                ]
            )
        await _many(
            "INSERT INTO entry (contest_id, public_id, status, locale, consent_version, "
            "consented_at, chain_hash, created_at, referral_code) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
    [(first_id,)] = await execute("SELECT MIN(id) FROM entry WHERE contest_id = ?", [contest.id])
    stamp = now.isoformat(sep=" ")
    for number, step in enumerate(steps):
        # Fewer at each step, as in any funnel; every fifth entrant answers the question.
        every = 5 if step.kind == "opinion" else number + 1
        ids = list(range(first_id, first_id + size, every))
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            await _many(
                "INSERT INTO completion (entry_id, step_id, points, completed_at) VALUES (?,?,?,?)",
                [[i, step.id, 1, stamp] for i in chunk],
            )
            if step.kind == "opinion":
                await _many(
                    "INSERT INTO answer (entry_id, step_id, text, attempts, created_at, "
                    "updated_at, reply, replied_by_name) VALUES (?,?,?,?,?,?,?,?)",
                    [
                        [i, step.id, f"Answer {i}: more decaf", 0, stamp, stamp, "", ""]
                        for i in chunk
                    ],
                )
    flagged = list(range(first_id, first_id + size, 50))
    await _many(
        "INSERT INTO fraud_flag (contest_id, entry_id, reason, details, created_at) "
        "VALUES (?,?,?,?,?)",
        [[contest.id, i, "same_network", "{}", stamp] for i in flagged],
    )
    # Every fourth entrant came through the link of one of a hundredth of the others;
    # four in five of those referrals count.
    referrers = max(1, size // 100)
    referred = list(range(first_id + 1, first_id + size, 4))
    for start in range(0, len(referred), BATCH):
        await _many(
            "INSERT INTO referral (contest_id, referrer_id, referred_id, code, status, reason, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            [
                [
                    contest.id,
                    first_id + (n * 7919) % referrers,
                    i,
                    "",
                    "credited" if n % 5 else "pending",
                    "",
                    stamp,
                ]
                for n, i in enumerate(referred[start : start + BATCH], start=start)
            ],
        )
    if postgres:
        await execute("ALTER TABLE entry ENABLE TRIGGER USER")
        await execute("ALTER TABLE completion ENABLE TRIGGER USER")
        await execute("ALTER TABLE referral ENABLE TRIGGER USER")
        started = time.perf_counter()
        await tallies.recount(contest.id)
        print(f"  counted from the rows once in {time.perf_counter() - started:.1f} s")
    await client.execute_query("ANALYZE")
    return await Contest.get(id=contest.id)


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    await call()
    runs = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await call()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000


async def counted_from_rows(contest: Contest) -> None:
    """Entrants per day, the funnel and the top referrers counted from the entries,
    completions and referrals, as the dashboard did before it kept running counts (UTC
    days: the zone changes nothing of the work)."""
    day = (
        "CAST(created_at AS DATE)"
        if connections.get("default").capabilities.dialect == "postgres"
        else "date(created_at)"
    )
    await execute(
        f"SELECT {day} AS day, COUNT(*) FROM entry WHERE contest_id = ? GROUP BY day",
        [contest.id],
    )
    await execute(
        "SELECT c.step_id, COUNT(*) FROM completion c JOIN step s ON s.id = c.step_id "
        "WHERE s.contest_id = ? GROUP BY c.step_id",
        [contest.id],
    )
    await execute(
        "SELECT COUNT(*) FROM (SELECT c.entry_id FROM completion c JOIN step s "
        "ON s.id = c.step_id WHERE s.contest_id = ? AND s.required GROUP BY c.entry_id "
        "HAVING COUNT(*) = 3) finished",
        [contest.id],
    )
    await execute(
        "SELECT status, COUNT(*) FROM referral WHERE contest_id = ? GROUP BY status",
        [contest.id],
    )
    await execute(
        "SELECT referrer_id, COUNT(referrer_id) AS n FROM referral WHERE contest_id = ? "
        "AND status = 'credited' GROUP BY referrer_id ORDER BY n DESC, referrer_id LIMIT 5",
        [contest.id],
    )


async def measure(contest: Contest) -> dict[str, float]:
    now = utcnow()
    middle = (await answers.opinion_answers(contest.id, limit=1))[0].id // 2 + 1
    return {
        "count of entries (anchor)": await timed(
            lambda: execute("SELECT COUNT(*) FROM entry WHERE contest_id = ?", [contest.id])
        ),
        "dashboard figures": await timed(lambda: dashboard.figures(contest, now=now)),
        "counted from the rows": await timed(lambda: counted_from_rows(contest)),
        "answers, first page": await timed(lambda: answers.opinion_answers(contest.id)),
        "answers, a deep page": await timed(
            lambda: answers.opinion_answers(contest.id, before=middle)
        ),
        "answers, searched": await timed(
            lambda: answers.opinion_answers(contest.id, search="decaf")
        ),
        "review queue, first page": await timed(lambda: review.waiting(contest.id)),
    }


async def run(database: str, url: str, sizes: tuple[int, int]) -> None:
    print(f"== {database}")
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    results = {}
    try:
        for size in sizes:
            started = time.perf_counter()
            contest = await seed(size)
            print(f"  seeded {size:,} entrants in {time.perf_counter() - started:.1f} s")
            results[size] = await measure(contest)
    finally:
        await Tortoise.close_connections()
    small, large = sizes
    print(f"  {'':<26} {f'{small:,} ms':>10} {f'{large:,} ms':>14} {'ratio':>6}")
    for name in results[small]:
        a, b = results[small][name], results[large][name]
        print(f"  {name:<26} {a:>10.1f} {b:>14.1f} {b / a:>6.1f}")
    figures = results[large]["dashboard figures"]
    print(
        f"  at {large:,}: the dashboard {figures:.1f} ms (goal < 200), "
        f"{figures / results[large]['count of entries (anchor)']:.2f}x a bare count, "
        f"{figures / results[large]['counted from the rows']:.3f}x counting the rows"
    )


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        # One database per process: Tortoise keeps the SQL it built for the first one.
        database, url, small, large = sys.argv[2:6]
        asyncio.run(run(database, url, (int(small), int(large))))
        return
    sizes = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else SIZES

    def one(database: str, url: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "bench.watching", "--one", database, url, *map(str, sizes)],
            check=True,
        )

    folder = Path(tempfile.mkdtemp(prefix="gymkana-bench-"))
    try:
        one("SQLite", f"sqlite://{folder / 'bench.sqlite3'}")
    finally:
        shutil.rmtree(folder)
    server = os.environ.get("BENCH_POSTGRES_URL")
    if server:
        url = asyncio.run(_postgres_database(server))
        try:
            one("PostgreSQL", url)
        finally:
            asyncio.run(_drop_postgres_database(server, url))
    else:
        print("(PostgreSQL not measured: BENCH_POSTGRES_URL is not set)")
    print(f"(median of {ROUNDS} calls each)")


if __name__ == "__main__":
    main()
