"""Queueing work from a request, on the app's Redis pool (see contests/jobs.py)."""

from __future__ import annotations

from starlette.requests import Request

from contests import jobs
from web.state import app_state


async def enqueue(request: Request, job: str, object_id: int) -> None:
    """Queue one job about one row, by id; a job already queued is not queued twice."""
    state = app_state(request)
    await jobs.enqueue(state.queue, state.settings.queue_name, job, object_id)
