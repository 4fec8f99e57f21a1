"""Names of the background jobs: the contract between who queues work and the worker.

Job ids are deterministic, so queueing the same work twice runs it once; they carry
the queue name because arq keeps job ids in one namespace per Redis database.
"""

from __future__ import annotations

VERIFY_VISIT = "verify_visit"
SEND_EMAIL = "send_email"
DRAW_CONTEST = "draw_contest"
CLOSE_CONTEST = "close_contest"


def job_id(queue_name: str, job: str, object_id: int) -> str:
    return f"{queue_name}:{job}:{object_id}"
