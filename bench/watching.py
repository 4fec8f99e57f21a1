"""The console's watching pages on large contests: the dashboard's figures, the first and
a deep page of opinion answers, and the review queue, at 10,000 and 100,000 entrants on
SQLite. Prints milliseconds per call (median of several) and the ratio to the smaller
contest: aggregate queries and keyset pages keep the ratios far below the 10x of the
data.

    python bench/watching.py
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections

from contests import answers, authoring, brands, dashboard, lifecycle, review
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.db import migrate, tortoise_config
from contests.models import Contest, Step

SIZES = (10_000, 100_000)
ROUNDS = 5
BATCH = 5_000


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
        await client.execute_many(
            "INSERT INTO entry (contest_id, public_id, status, locale, consent_version, "
            "consented_at, chain_hash, created_at, referral_code) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
    first_id = (
        await client.execute_query_dict(
            "SELECT MIN(id) AS m FROM entry WHERE contest_id = ?", [contest.id]
        )
    )[0]["m"]
    stamp = now.isoformat(sep=" ")
    for number, step in enumerate(steps):
        # Fewer at each step, as in any funnel; every fifth entrant answers the question.
        every = 5 if step.kind == "opinion" else number + 1
        ids = list(range(first_id, first_id + size, every))
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            await client.execute_many(
                "INSERT INTO completion (entry_id, step_id, points, completed_at) VALUES (?,?,?,?)",
                [[i, step.id, 1, stamp] for i in chunk],
            )
            if step.kind == "opinion":
                await client.execute_many(
                    "INSERT INTO answer (entry_id, step_id, text, attempts, created_at, "
                    "updated_at, reply, replied_by_name) VALUES (?,?,?,?,?,?,?,?)",
                    [
                        [i, step.id, f"Answer {i}: more decaf", 0, stamp, stamp, "", ""]
                        for i in chunk
                    ],
                )
    flagged = list(range(first_id, first_id + size, 50))
    await client.execute_many(
        "INSERT INTO fraud_flag (contest_id, entry_id, reason, details, created_at) "
        "VALUES (?,?,?,?,?)",
        [[contest.id, i, "same_network", "{}", stamp] for i in flagged],
    )
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


async def measure(contest: Contest) -> dict[str, float]:
    now = utcnow()
    middle = (await answers.opinion_answers(contest.id, limit=1))[0].id // 2 + 1
    return {
        "dashboard figures": await timed(lambda: dashboard.figures(contest, now=now)),
        "answers, first page": await timed(lambda: answers.opinion_answers(contest.id)),
        "answers, a deep page": await timed(
            lambda: answers.opinion_answers(contest.id, before=middle)
        ),
        "answers, searched": await timed(
            lambda: answers.opinion_answers(contest.id, search="decaf")
        ),
        "review queue, first page": await timed(lambda: review.waiting(contest.id)),
    }


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="gymkana-bench-"))
    url = f"sqlite://{folder / 'bench.sqlite3'}"
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    results = {}
    for size in SIZES:
        started = time.perf_counter()
        contest = await seed(size)
        print(f"seeded {size:,} entrants in {time.perf_counter() - started:.1f} s")
        results[size] = await measure(contest)
    await Tortoise.close_connections()
    small, large = SIZES
    print(f"{'':<26} {f'{small:,} ms':>10} {f'{large:,} ms':>11} {'ratio':>6}")
    for name in results[small]:
        a, b = results[small][name], results[large][name]
        print(f"{name:<26} {a:>10.1f} {b:>11.1f} {b / a:>6.1f}")
    print(f"(median of {ROUNDS} calls each, SQLite, one process)")


if __name__ == "__main__":
    asyncio.run(main())
