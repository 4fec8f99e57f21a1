"""Workers judge reported visits in batches: many reports per transaction, several
workers sharing a backlog, and a worker killed half-way leaving nothing half-judged."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from arq import create_pool
from arq.connections import RedisSettings

from contests import jobs
from contests.clock import utcnow
from contests.models import Completion, Contest, Evidence, EvidenceStatus, Step
from contests.queries import execute
from contests.settings import Settings
from contests.steps import verdicts
from tests.conftest import ROOT, eventually
from tests.factories import LINKS, brand_with_marketer, live_contest, step_of

PAGE = "https://shop.example.com/origins?ref=contest"


async def _backlog(contest: Contest, step: Step, entries: int) -> None:
    """``entries`` entries, each with one pending visit report: set-based, as a crowd's
    beacons leave them."""
    now = utcnow()
    tag = secrets.token_hex(4)
    for start in range(0, entries, 500):
        values: list[Any] = []
        for n in range(start, min(entries, start + 500)):
            values += [contest.id, f"{tag}e{n}", f"{tag}r{n}", now, now]
        await execute(
            "INSERT INTO entry (contest_id, public_id, referral_code, status, locale, "
            "consent_version, consented_at, chain_hash, created_at) VALUES "
            + ", ".join(["(?, ?, ?, 'active', 'es', '1', ?, 'h', ?)"] * (len(values) // 5)),
            values,
        )
    await execute(
        "INSERT INTO evidence (nonce, entry_id, step_id, reported_at, data, status, reason) "
        "SELECT public_id, id, ?, ?, ?, 'pending', '' FROM entry WHERE contest_id = ?",
        [step.id, now, json.dumps({"started_at": now.isoformat(), "page_url": PAGE}), contest.id],
    )


async def _playing(entries: int) -> tuple[Contest, Step]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    step = await step_of(contest, "visit")
    await _backlog(contest, step, entries)
    return contest, step


async def _counts(step: Step) -> tuple[int, int, int]:
    """(pending, verified, completions) of the step."""
    pending = await Evidence.filter(step=step, status=EvidenceStatus.PENDING).count()
    verified = await Evidence.filter(step=step, status=EvidenceStatus.VERIFIED).count()
    return pending, verified, await Completion.filter(step=step).count()


async def _nothing_half_judged(step: Step) -> None:
    """Every verified report has its completion, and no pending one has any."""
    _, verified, completions = await _counts(step)
    assert completions == verified
    judged_entries = set(
        await Evidence.filter(step=step, status=EvidenceStatus.VERIFIED).values_list(
            "entry_id", flat=True
        )
    )
    completed = set(await Completion.filter(step=step).values_list("entry_id", flat=True))
    assert judged_entries == completed


async def test_one_batch_judges_many_reports_in_few_queries(database_url: Any) -> None:
    _, step = await _playing(40)
    total = await Evidence.filter(step=step).count()
    ids = list(await Evidence.filter(step=step).values_list("id", flat=True))
    judged = await verdicts.verify_pending(links=LINKS, only=ids)  # type: ignore[arg-type]
    assert judged.verified == total and judged.rejected == 0
    assert await _counts(step) == (0, total, total)
    again = await verdicts.verify_pending(links=LINKS, only=ids)  # type: ignore[arg-type]
    assert again.judged == 0


async def test_two_workers_judging_one_backlog_judge_each_report_once(database_url: Any) -> None:
    _, step = await _playing(300)
    total = await Evidence.filter(step=step).count()
    ids = list(await Evidence.filter(step=step).values_list("id", flat=True))

    async def worker() -> int:
        judged = 0
        while True:
            batch = await verdicts.verify_pending(links=LINKS, limit=100, only=ids)  # type: ignore[arg-type]
            if not batch.judged:
                return judged
            judged += batch.judged

    shares = await asyncio.gather(worker(), worker())
    assert sum(shares) == total
    assert await _counts(step) == (0, total, total)


def _start_worker(settings: Settings, queue_name: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "QUEUE_NAME": queue_name,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "WORKER_POLL_DELAY": "0.02",
        # Small batches: many transactions, so that the kill lands between or inside them.
        "VERIFY_BATCH": "20",
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", "worker"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def test_a_worker_killed_mid_batch_leaves_nothing_half_judged(
    settings: Settings, tmp_path: Path
) -> None:
    _, step = await _playing(4000)
    total = await Evidence.filter(step=step).count()
    queue_name = f"{settings.queue_name}-kill-{secrets.token_hex(3)}"
    queue = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    log = (tmp_path / "worker.log").open("wb")
    worker = _start_worker(settings, queue_name, log)
    try:
        await jobs.enqueue(queue, queue_name, jobs.VERIFY_EVIDENCE, 1)

        async def started() -> bool:
            return (await _counts(step))[1] > 0

        await eventually(started, timeout=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        _, verified, _ = await _counts(step)
        assert 0 < verified < total, "the worker finished before the kill: nothing was shown"
        await _nothing_half_judged(step)

        # Another worker takes what is left (on PostgreSQL, once the database has seen
        # the killed worker's connection go and released its batch); each report is
        # judged once.
        async def all_judged() -> bool:
            await verdicts.verify_pending(links=LINKS)
            return (await _counts(step))[0] == 0

        await eventually(all_judged, timeout=60)
        assert await _counts(step) == (0, total, total)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        log.close()
        await queue.aclose()
