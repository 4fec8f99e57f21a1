"""Requests per second through the whole ASGI stack (middleware, sessions, ORM on SQLite,
templates), in one process: the home page, a contest page for a visitor and for a signed-in
participant with progress, and /healthz as the floor. Ratios are against /healthz."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from itsdangerous import TimestampSigner
from tortoise import Tortoise

from contests import authoring, brands, entries, lifecycle
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.db import migrate, tortoise_config
from contests.settings import load_settings
from oauth import sessions
from oauth.identities import Profile, sign_in
from web.app import create_app

REQUESTS = 400


async def seed() -> tuple[str, str]:
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
    await authoring.add_prize(contest, name="Prize", description="", quantity=1, actor="b", now=now)
    for number in range(5):
        await authoring.add_step(
            contest,
            StepDraft("code", f"Step {number}", "A clue", settings={"code": f"CODE{number}"}),
            actor="bench",
            now=now,
        )
    await lifecycle.publish(contest, actor="bench", now=now)
    person = await sign_in(
        Profile("email", "bench@example.com", "bench@example.com", True), locale="es", now=now
    )
    await entries.enter(contest, person, consented=True, locale="es", now=now)
    session = await sessions.start(person, now=now, max_age=timedelta(hours=1))
    return contest.slug, session.id


async def rate(client: httpx.AsyncClient, path: str) -> float:
    for _ in range(20):
        await client.get(path)
    started = time.perf_counter()
    for _ in range(REQUESTS):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    return REQUESTS / (time.perf_counter() - started)


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="gymkana-bench-"))
    settings = load_settings(
        secret_key=secrets.token_urlsafe(40),
        database_url=f"sqlite://{folder / 'bench.sqlite3'}",
        queue_name=f"bench-{secrets.token_hex(3)}",
    )
    await migrate(settings.database_url)
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    slug, session_id = await seed()
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as visitor:
            floor = await rate(visitor, "/healthz")
            results = {
                "/healthz": floor,
                "/ (home)": await rate(visitor, "/"),
                "/c/<slug> visitor": await rate(visitor, f"/c/{slug}"),
            }
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as participant:
            # A signed-in browser: the session cookie as SessionMiddleware writes it.
            payload = base64.b64encode(json.dumps({"sid": session_id}).encode())
            cookie = TimestampSigner(settings.secret_key).sign(payload).decode()
            participant.cookies.set("gymkana", cookie)
            results["/c/<slug> participant"] = await rate(participant, f"/c/{slug}")
    await Tortoise.close_connections()
    print(f"{'page':<26} {'req/s':>8} {'vs healthz':>11}")
    for name, value in results.items():
        print(f"{name:<26} {value:>8.0f} {value / floor:>11.2f}")
    print(f"({REQUESTS} sequential requests each, one process, SQLite)")


if __name__ == "__main__":
    asyncio.run(main())
