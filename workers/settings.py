"""The arq workers: one per lane, run together in one process, with the database it opens.

Each lane is a queue of its own (see ``contests.jobs.LANES``) with its own time-outs.
arq keeps a job "in progress" for the longest time-out of its worker plus ten seconds:
a job whose worker was killed is only retried after that, so short jobs must not share
a worker with a long draw. The draw lane does not wait for it: its jobs hold a lease on
their contest, and the clock queues a close or draw whose lease ran out afresh.
"""

from __future__ import annotations

import asyncio
import signal
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker, func
from tortoise import Tortoise

from contests import jobs
from contests.db import tortoise_config
from contests.links import Links
from contests.settings import Settings
from workers import tasks

# Every few seconds, so "close at the end time" means within seconds of it.
TICK_SECONDS = set(range(0, 60, tasks.TICK_PERIOD))


@dataclass(frozen=True)
class Lane:
    """A queue and the jobs it runs, each with its time-out in seconds and its tries."""

    job: str  # one of the lane's jobs: its queue is the lane's
    functions: Sequence[tuple[WorkerCoroutine, int, int]]
    clock: bool = False


LANES = (
    Lane(jobs.SEND_EMAIL, [(tasks.send_email, 30, 3)], clock=True),
    # A verification job hands on its backlog after VERIFY_SECONDS; the margin is for
    # the batch it is in the middle of.
    Lane(jobs.VERIFY_EVIDENCE, [(tasks.verify_evidence, tasks.VERIFY_SECONDS + 20, 5)]),
    # A million entries close and draw in seconds; the margin is for a slow database.
    Lane(jobs.DRAW_CONTEST, [(tasks.close_contest, 600, 5), (tasks.draw_contest, 600, 5)]),
    # Fetching a contest's brand pages waits on other sites: never in front of mail.
    Lane(jobs.CHECK_INSTALLATION, [(tasks.check_installation, 300, 1)]),
)


def worker_options(settings: Settings, links: Links, lane: Lane) -> dict[str, Any]:
    """arq Worker keyword arguments for one lane, handing its jobs the settings and the
    app's links for the emails they send."""
    functions: list[Function] = [
        func(coroutine, timeout=timeout, max_tries=tries)
        for coroutine, timeout, tries in lane.functions
    ]
    return {
        "functions": functions,
        "cron_jobs": [
            cron(
                tasks.tick,
                second=TICK_SECONDS,
                run_at_startup=True,
                unique=True,
                timeout=30,
                # Each tick's job id is the name plus its time; arq's default name would be
                # the same for every installation sharing one Redis database.
                name=f"{settings.queue_name}:cron:tick",
            )
        ]
        if lane.clock
        else [],
        "ctx": {"settings": settings, "links": links},
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": jobs.queue_of(settings.queue_name, lane.job),
        # Each verification job takes whole batches: a few at once keep the database
        # busy without fighting over its locks.
        "max_jobs": settings.verify_jobs
        if lane.job == jobs.VERIFY_EVIDENCE
        else settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay,
        # Results are not kept: a job id then guards only against the same job
        # being queued twice, and the cron may queue a failed send again later.
        "keep_result": 0,
        # One process runs every lane: it handles the signals itself (see ``run``).
        "handle_signals": False,
    }


def build_workers(settings: Settings, links: Links, **overrides: Any) -> list[Worker]:
    """A worker for each lane; built inside the running loop, which arq binds to."""
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="arq")
    return [Worker(**{**worker_options(settings, links, lane), **overrides}) for lane in LANES]


async def run(settings: Settings, links: Links, **overrides: Any) -> None:
    """``gymkana worker``: every lane until a signal (in burst mode, until the queues are
    empty), with the database opened once for all of them."""
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    workers = build_workers(settings, links, **overrides)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop, workers, signum)
    try:
        await serve(workers)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        await close(workers)
        await Tortoise.close_connections()


async def serve(workers: Sequence[Worker]) -> None:
    """Run the workers until each has stopped."""
    await asyncio.gather(*(_until_stopped(worker.async_run()) for worker in workers))


def stop(workers: Sequence[Worker], signum: signal.Signals = signal.SIGTERM) -> None:
    for worker in workers:
        worker.handle_sig(signum)


async def close(workers: Sequence[Worker]) -> None:
    for worker in workers:
        await _until_stopped(worker.close())


async def _until_stopped(work: Any) -> None:
    """arq stops by cancelling its own tasks; that is an ending, not our task being cancelled."""
    try:
        await work
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
