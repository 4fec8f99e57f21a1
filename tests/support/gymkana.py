"""Gymkana itself as an operator runs it: a `gymkana` command in a process of its own,
answering on loopback, and Debian's chromium to look at it."""

from __future__ import annotations

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
        deadline = time.monotonic() + 30
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
