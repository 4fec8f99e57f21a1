"""Gymkana itself as an operator runs it: a `gymkana` command in a process of its own,
answering on loopback, and Debian's chromium to look at it."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def gymkana_command(args: list[str], env: Mapping[str, str], base: str) -> Iterator[str]:
    """Run `gymkana ARGS` until the block ends; yields once {base}/healthz answers 200."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        # Migrating a fresh database and seeding takes seconds, many on a busy machine.
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"gymkana {args[0]} did not start:\n{output}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@asynccontextmanager
async def chromium(executable: str) -> AsyncIterator[Browser]:
    """Debian's chromium driven by Playwright; never a browser Playwright downloads."""
    if not Path(executable).exists():
        pytest.fail(f"Debian's chromium is not at {executable}: run scripts/ensure-chromium.sh")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@contextmanager
def running_demo(database_dir: Path, redis_url: str) -> Iterator[dict[str, str]]:
    """`gymkana demo` exactly as a newcomer runs it, on its own database and ports;
    yields the app's and the brand site's base addresses."""
    port, site_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{database_dir / 'demo.sqlite3'}",
        "REDIS_URL": redis_url,
        "QUEUE_NAME": f"demo-test-{secrets.token_hex(3)}",
    }
    for name in ("SECRET_KEY", "SMTP_URL", "BASE_URL"):
        env.pop(name, None)
    args = ["demo", "--port", str(port), "--site-port", str(site_port)]
    with gymkana_command(args, env, f"http://127.0.0.1:{port}") as base:
        yield {"base": base, "site": f"http://127.0.0.1:{site_port}"}
