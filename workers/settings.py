"""The arq worker: its functions, its cron, and the database it opens."""

from __future__ import annotations

import warnings
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func
from tortoise import Tortoise

from contests.db import tortoise_config
from contests.links import Links
from contests.settings import Settings
from workers import tasks

# Every few seconds, so "close at the end time" means within seconds of it.
TICK_SECONDS = set(range(0, 60, 5))


def worker_options(
    settings: Settings, links: Links, *, manage_database: bool = True
) -> dict[str, Any]:
    """arq Worker keyword arguments; the CLI and the demo build their worker from these,
    handing it the app's links for the emails it sends."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["links"] = links
        if manage_database:
            await Tortoise.init(
                config=tortoise_config(settings.database_url), _enable_global_fallback=True
            )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if manage_database:
            await Tortoise.close_connections()

    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    return {
        "functions": [
            func(tasks.verify_evidence, max_tries=5),
            func(tasks.send_email, max_tries=3),
            func(tasks.draw_contest, max_tries=5),
            func(tasks.close_contest, max_tries=5),
        ],
        "cron_jobs": [
            cron(
                tasks.tick,
                second=TICK_SECONDS,
                run_at_startup=True,
                unique=True,
                # Each tick's job id is the name plus its time; arq's default name would be
                # the same for every installation sharing one Redis database.
                name=f"{settings.queue_name}:cron:tick",
            )
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings,
        "queue_name": settings.queue_name,
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay,
        # Results are not kept: a job id then guards only against the same job
        # being queued twice, and the cron may queue a failed send again later.
        "keep_result": 0,
        "handle_signals": True,
    }


def build_worker(settings: Settings, links: Links, **overrides: Any) -> Worker:
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="arq")
    options = worker_options(
        settings, links, manage_database=overrides.pop("manage_database", True)
    )
    options.update(overrides)
    return Worker(**options)
