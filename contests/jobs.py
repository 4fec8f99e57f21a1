"""Background jobs: their names, and handing one to the queue.

Job ids are deterministic, so queueing the same work twice runs it once; they carry
the queue name because arq keeps job ids in one namespace per Redis database. Work
that must not be lost is already a row (outbox message, evidence, closed contest) and
the worker's clock re-checks those rows, so a queue that fails here delays, never loses.

Each kind of job has a lane, a queue of its own with its own time-outs: a backlog of
visits to verify never delays the clock's mail, and a long draw never holds up either.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("gymkana.queue")

VERIFY_EVIDENCE = "verify_evidence"
SEND_EMAIL = "send_email"
DRAW_CONTEST = "draw_contest"
CLOSE_CONTEST = "close_contest"
CHECK_INSTALLATION = "check_installation"

# The suffix of each job's queue; the clock's lane is the queue itself.
LANES = {
    SEND_EMAIL: "",
    VERIFY_EVIDENCE: "evidence",
    CLOSE_CONTEST: "draws",
    DRAW_CONTEST: "draws",
    CHECK_INSTALLATION: "checks",
}


def queue_of(queue_name: str, job: str) -> str:
    lane = LANES[job]
    return f"{queue_name}:{lane}" if lane else queue_name


class JobQueue(Protocol):
    """What queueing needs of arq's Redis pool (the web app's, or a worker's own)."""

    async def enqueue_job(
        self, function: str, *args: Any, _job_id: str | None = None, _queue_name: str | None = None
    ) -> Any: ...


def job_id(queue_name: str, job: str, object_id: int, attempt: int | None = None) -> str:
    base = f"{queue_name}:{job}:{object_id}"
    return base if attempt is None else f"{base}:{attempt}"


async def enqueue(
    queue: JobQueue | None, queue_name: str, job: str, object_id: int, *, attempt: int | None = None
) -> None:
    """Queue one job about one row, by id, after the commit that makes it valid;
    ``attempt`` tells apart the tries of a job that may be left behind by a dead worker."""
    name = job_id(queue_name, job, object_id, attempt)
    if queue is None:
        log.warning("no queue: %s left for the clock", name)
        return
    try:
        await queue.enqueue_job(job, object_id, _job_id=name, _queue_name=queue_of(queue_name, job))
    except Exception as exc:  # noqa: BLE001 - Redis errors vary; the clock recovers
        log.warning("could not enqueue %s (%s): left for the clock", name, exc)
