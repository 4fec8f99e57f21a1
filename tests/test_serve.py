"""`gymkana serve` believes X-Forwarded-For only from the proxies named in TRUSTED_PROXIES:
by default a client, even on loopback, cannot name its own address to dodge the
per-client rate limits."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from contests.settings import Settings
from tests.conftest import ROOT, SECRET
from tests.factories import csrf_of
from tests.support.gymkana import gymkana_command
from tests.support.servers import free_port

LIMIT = 3
# Each request claims to come from another visitor.
FORWARDED = [f"203.0.113.{n}" for n in range(1, LIMIT + 2)]


@pytest.fixture
def queue(redis_url: str) -> Iterator[str]:
    """A queue name of its own, which also scopes the rate limits; its keys go afterwards."""
    name = f"serve-test-{secrets.token_hex(4)}"
    yield name
    with Redis.from_url(redis_url) as redis:
        for pattern in (f"{name}*", f"arq:*:{name}:*"):
            for key in redis.scan_iter(pattern):
                redis.delete(key)


def _ask_links(base: str, forwarded_for: list[str]) -> list[str]:
    """Ask for a sign-in link once per forwarded address; where each answer redirects."""
    where = []
    with httpx.Client(base_url=base) as browser:
        for address in forwarded_for:
            token = csrf_of(browser.get("/login").text)
            response = browser.post(
                "/login/email",
                data={"email": f"{secrets.token_hex(4)}@example.com", "csrf_token": token},
                headers={"X-Forwarded-For": address},
            )
            assert response.status_code == 303, response.text
            where.append(response.headers["location"])
    return where


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("", ["/login/sent"] * LIMIT + ["/login?next=/"]),
        ("127.0.0.1", ["/login/sent"] * (LIMIT + 1)),
    ],
    ids=["trusting-nobody", "trusting-loopback"],
)
def test_forwarded_addresses_count_only_from_trusted_proxies(
    tmp_path: Path, redis_url: str, queue: str, trusted: str, expected: list[str]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        PYTHONPATH=str(ROOT),
        SECRET_KEY=SECRET,
        BASE_URL=base,
        DATABASE_URL=f"sqlite://{tmp_path}/gymkana.sqlite3",
        REDIS_URL=redis_url,
        QUEUE_NAME=queue,
        SIGN_IN_LIMIT=f"{LIMIT}/15 minutes",
        TRUSTED_PROXIES=trusted,
    )
    with gymkana_command(["serve", "--port", str(port)], env, base):
        assert _ask_links(base, FORWARDED) == expected


def _processes_serving(port: int) -> int:
    """How many processes run `serve --port PORT`: the server's own and its workers."""
    wanted = f"serve\0--port\0{port}\0".encode()
    count = 0
    for proc in Path("/proc").iterdir():
        try:
            count += proc.name.isdigit() and wanted in (proc / "cmdline").read_bytes()
        except OSError:
            continue
    return count


def test_serve_runs_web_processes_and_a_signed_out_page_sets_no_cookie(
    tmp_path: Path, redis_url: str, queue: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        PYTHONPATH=str(ROOT),
        SECRET_KEY=SECRET,
        BASE_URL=base,
        DATABASE_URL=f"sqlite://{tmp_path}/gymkana.sqlite3",
        REDIS_URL=redis_url,
        QUEUE_NAME=queue,
        WEB_PROCESSES="2",
    )
    with gymkana_command(["serve", "--port", str(port)], env, base):
        # The server's process and the two that answer.
        assert _processes_serving(port) == 3
        with httpx.Client(base_url=base) as visitor:
            home = visitor.get("/", headers={"Accept-Language": "en"})
    assert home.status_code == 200
    assert home.headers["server"] == "granian"
    assert "set-cookie" not in home.headers
    assert home.headers["cache-control"].startswith("public, max-age=0, s-maxage=")
