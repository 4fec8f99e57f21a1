"""Handing work to the arq worker after the commit that makes it valid.

Work that must not be lost is already a row (outbox message, visit report, closed
contest) and a cron re-checks those rows, so a Redis hiccup here delays, never loses.
"""

from __future__ import annotations

import logging

from starlette.requests import Request

from contests.jobs import job_id
from web.state import app_state

log = logging.getLogger("gymkana.queue")


async def enqueue(request: Request, job: str, object_id: int) -> None:
    """Queue one job about one row, by id; a job already queued is not queued twice."""
    state = app_state(request)
    name = job_id(state.settings.queue_name, job, object_id)
    if state.queue is None:
        log.warning("no queue: %s left for the cron", name)
        return
    try:
        await state.queue.enqueue_job(job, object_id, _job_id=name)
    except Exception as exc:  # noqa: BLE001 - Redis errors vary; the cron recovers
        log.warning("could not enqueue %s (%s): left for the cron", name, exc)
