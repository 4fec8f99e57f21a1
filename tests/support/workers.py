"""Real `gymkana worker` processes for the tests that kill them: each on a queue of the
test's own, against the test database, with its log in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from contests.ids import public_id
from contests.settings import Settings
from tests.conftest import ROOT, eventually


@dataclass
class Workers:
    """Worker processes started with the test settings and ``env`` on top of them."""

    settings: Settings
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    queue_name: str = field(default_factory=lambda: f"gymkana-crash-{public_id()[:8]}")
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def start(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DATABASE_URL": self.settings.database_url,
            "REDIS_URL": self.settings.redis_url,
            "QUEUE_NAME": self.queue_name,
            "SECRET_KEY": self.settings.secret_key,
            "BASE_URL": self.settings.base_url,
            "SMTP_URL": self.settings.smtp_url,
            "MAIL_FROM": self.settings.mail_from,
            "WORKER_POLL_DELAY": "0.02",
            **self.env,
        }
        log = (self.log_dir / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-c", "from web.cli import main; main()", "worker"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes.append(process)
        redis = Redis.from_url(self.settings.redis_url)
        health = f"{self.queue_name}:health-check"
        try:
            if process.poll() is None:
                await eventually(lambda: redis.exists(health), 30)
        finally:
            await redis.aclose()
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """As a crash or an out-of-memory kill: no chance to finish anything."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.log_dir.glob("worker-*.log"))
        )

    async def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        redis = Redis.from_url(self.settings.redis_url)
        try:
            patterns = [f"{self.queue_name}*", f"arq:*:{self.queue_name}:*"]
            keys = [k for pattern in patterns async for k in redis.scan_iter(pattern)]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()
