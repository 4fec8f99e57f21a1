"""The console's entrants page at 100,000 entrants on PostgreSQL, through the whole ASGI
stack, against an anchor of reading the same page's rows; and the CSV export of them all.

It creates a database of its own on the server named by BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres), fills it with entrants who have done some
of five steps (a few of them flagged), and times each page and the anchor alternately
(A, B, A, B, ...), printing the medians and their ratio. Usage:

    python -m bench.entrants [ENTRANTS] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import resource
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from itsdangerous import TimestampSigner
from tortoise import Tortoise

from bench.close_draw import _drop_postgres_database, _postgres_database
from contests import authoring, brands, lifecycle
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.db import migrate, tortoise_config
from contests.models import MarketerRole
from contests.queries import execute
from contests.settings import Settings, load_settings
from oauth import sessions
from oauth.identities import Profile, sign_in
from web.app import create_app

GOAL_MS = 200
STEPS = 5

PEOPLE = (
    "INSERT INTO participant (public_id, display_name, email, email_verified, locale, "
    "created_at) SELECT 'bench' || i, 'Person ' || i, 'person' || i || '@example.com', TRUE, "
    "'es', ? FROM generate_series(1, ?) AS i"
)
# One entrant in fifty declares Portugal, the rest Spain.
ENTRIES = (
    "INSERT INTO entry (contest_id, participant_id, public_id, referral_code, status, locale, "
    "consent_version, consented_at, chain_hash, created_at, declared_country) SELECT ?, p.id, "
    "substr(md5(random()::text), 1, 16) || p.id, substr(md5(random()::text), 1, 20) || p.id, "
    "'active', 'es', '1', ?, 'h', ?, CASE WHEN p.id % 50 = 0 THEN 'PT' ELSE 'ES' END "
    "FROM participant p WHERE p.public_id LIKE 'bench%' ORDER BY p.id"
)


async def seed(entrants: int) -> tuple[int, str, str]:
    """A live contest with ``entrants`` entrants; its console path and a marketer's
    session id."""
    now = utcnow()
    brand = await brands.create_brand(
        name=f"Bench {secrets.token_hex(3)}",
        domains=["shop.example.com"],
        reply_to="hi@shop.example.com",
        now=now,
    )
    contest = await authoring.create_contest(
        brand,
        ContestDraft(
            "Bench contest",
            "",
            now - timedelta(minutes=1),
            now + timedelta(days=1),
            countries=("ES", "PT"),
        ),
        actor="bench",
        now=now,
    )
    await authoring.add_prize(contest, name="Prize", description="", quantity=1, actor="b", now=now)
    steps = [
        await authoring.add_step(
            contest,
            StepDraft("code", f"Step {n}", points=n, required=n < 2, settings={"code": f"C{n}"}),
            actor="bench",
            now=now,
        )
        for n in range(STEPS)
    ]
    await lifecycle.publish(contest, actor="bench", now=now)
    await execute(PEOPLE, [now, entrants])
    await execute(ENTRIES, [contest.id, now, now])
    for n, step in enumerate(steps):
        # Fewer people get further: step n is done by the entries whose id is not a
        # multiple of n + 2.
        await execute(
            "INSERT INTO completion (entry_id, step_id, points, completed_at) "
            "SELECT id, ?, ?, ? FROM entry WHERE contest_id = ? AND id % ? <> 0",
            [step.id, step.points, now, contest.id, n + 2],
        )
    await execute(
        "INSERT INTO fraud_flag (contest_id, entry_id, reason, details, created_at) "
        "SELECT contest_id, id, 'same_network', '{}', ? FROM entry "
        "WHERE contest_id = ? AND id % 97 = 0",
        [now, contest.id],
    )
    await execute("UPDATE contest SET entry_count = ? WHERE id = ?", [entrants, contest.id])
    # As autovacuum would after a bulk load: the planner needs the tables' statistics.
    await execute("ANALYZE")
    address = f"marketer-{secrets.token_hex(3)}@example.com"
    await brands.add_marketer(brand, address, role=MarketerRole.OWNER, actor="bench", now=now)
    person = await sign_in(Profile("email", address, address, True), locale="en", now=now)
    await brands.link_marketer_roles(person, address)
    session = await sessions.start(person, now=now, max_age=timedelta(hours=1))
    return contest.id, f"/console/{brand.slug}/contests/{contest.id}/entrants", session.id


async def anchor(contest_id: int) -> None:
    """Reading the rows a page shows: its 50 entrants with their names, then their
    completions and flags."""
    rows = await execute(
        "SELECT e.id, e.public_id, e.status, e.created_at, p.display_name, p.email "
        "FROM entry e LEFT JOIN participant p ON p.id = e.participant_id "
        "WHERE e.contest_id = ? ORDER BY e.id DESC LIMIT 50",
        [contest_id],
    )
    ids = [row[0] for row in rows]
    marks = ", ".join("?" * len(ids))
    await execute(
        f"SELECT entry_id, step_id, points FROM completion WHERE entry_id IN ({marks})", ids
    )
    await execute(f"SELECT entry_id, reason FROM fraud_flag WHERE entry_id IN ({marks})", ids)


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def compare(
    client: httpx.AsyncClient, contest_id: int, path: str, rounds: int
) -> list[tuple[str, float]]:
    [middle] = await execute(
        "SELECT id FROM entry WHERE contest_id = ? ORDER BY id LIMIT 1 OFFSET "
        "(SELECT COUNT(*) / 2 FROM entry WHERE contest_id = ?)",
        [contest_id, contest_id],
    )
    pages = {
        "first page": {},
        "a page in the middle": {"older": str(middle[0])},
        "search, 111 matches": {"q": "person777"},
        "search, nobody matches": {"q": "nobody-at-all"},
        "in the draw": {"eligible": "yes"},
        "flagged, last step done": {"flagged": "yes", "step": "0"},
        "country, 49 in 50 (Spain)": {"country": "ES"},
        "country, 1 in 50 (Portugal)": {"country": "PT"},
        "Portugal, in the draw": {"country": "PT", "eligible": "yes"},
    }
    step_ids = await execute(
        "SELECT id FROM step WHERE contest_id = ? ORDER BY position, id", [contest_id]
    )
    pages["flagged, last step done"]["step"] = str(step_ids[-1][0])

    async def get(params: dict[str, str]) -> None:
        response = await client.get(path, params=params)
        assert response.status_code == 200, (params, response.status_code)

    results = []
    for name, params in pages.items():
        await get(params)
        await anchor(contest_id)
        page_ms, anchor_ms = [], []
        for _ in range(rounds):
            anchor_ms.append(await timed(lambda: anchor(contest_id)))
            page_ms.append(await timed(lambda params=params: get(params)))  # type: ignore[misc]
        results.append((name, statistics.median(page_ms)))
        results.append(("  anchor", statistics.median(anchor_ms)))
    return results


async def export(client: httpx.AsyncClient, path: str) -> tuple[float, int, float]:
    """Seconds to download every entrant as CSV, its lines, and the process's peak
    memory growth while it streamed (MB)."""
    page = await client.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    lines = 0
    async with client.stream(
        "POST", path + "/export", data={"csrf_token": token.group(1)}
    ) as response:
        assert response.status_code == 200, response.status_code
        async for chunk in response.aiter_text():
            lines += chunk.count("\n")
    seconds = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return seconds, lines - 1, grown


async def main() -> None:
    entrants = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    server = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    settings = load_settings(
        secret_key=secrets.token_urlsafe(40),
        database_url=await _postgres_database(server),
        queue_name=f"bench-{secrets.token_hex(3)}",
    )
    try:
        await run(settings, entrants, rounds)
    finally:
        await Tortoise.close_connections()
        await _drop_postgres_database(server, settings.database_url)


async def run(settings: Settings, entrants: int, rounds: int) -> None:
    await migrate(settings.database_url)
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    started = time.perf_counter()
    contest_id, path, session_id = await seed(entrants)
    print(f"{entrants:,} entrants seeded in {time.perf_counter() - started:.0f} s")
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            # A signed-in browser: the session cookie as SessionMiddleware writes it.
            payload = base64.b64encode(json.dumps({"sid": session_id}).encode())
            client.cookies.set(
                "gymkana", TimestampSigner(settings.secret_key).sign(payload).decode()
            )
            results = await compare(client, contest_id, path, rounds)
            seconds, lines, grown = await export(client, path)
    await Tortoise.close_connections()
    print(f"{'entrants page (PostgreSQL)':<32} {'median ms':>10} {'vs anchor':>10}")
    page_ms = 0.0
    for name, ms in results:
        if name.strip() == "anchor":
            print(f"{name:<32} {ms:>10.1f} {page_ms / ms:>9.1f}x")
        else:
            page_ms = ms
            verdict = "ok" if ms < GOAL_MS else f"over {GOAL_MS} ms"
            print(f"{name:<32} {ms:>10.1f} {verdict:>10}")
    print(
        f"CSV export: {lines:,} entrants in {seconds:.1f} s "
        f"({lines / seconds:,.0f} a second), peak memory grew {grown:.0f} MB"
    )
    print(f"(medians of {rounds} alternating requests; goal < {GOAL_MS} ms a page)")


if __name__ == "__main__":
    asyncio.run(main())
