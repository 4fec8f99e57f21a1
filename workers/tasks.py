"""arq tasks: thin. Load by id, call the service in contests/, done. Each is safe to
run twice."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from contests import closing, jobs, lifecycle, mail, steps
from contests.clock import utcnow
from contests.settings import Settings
from workers.mailer import deliver

log = logging.getLogger("gymkana.worker")

Ctx = dict[str, Any]
# A visit report still pending after this long lost its job; the tick queues it again.
STALE_REPORT = timedelta(seconds=30)


def _settings(ctx: Ctx) -> Settings:
    settings: Settings = ctx["settings"]
    return settings


async def _enqueue(ctx: Ctx, job: str, object_id: int) -> None:
    name = jobs.job_id(_settings(ctx).queue_name, job, object_id)
    await ctx["redis"].enqueue_job(job, object_id, _job_id=name)


async def verify_visit(ctx: Ctx, report_id: int) -> str:
    report = await steps.verify_visit(report_id)
    return "missing" if report is None else f"{report.status} {report.reason}".strip()


async def send_email(ctx: Ctx, message_id: int) -> str:
    settings = _settings(ctx)
    message = await mail.claim_for_sending(message_id)
    if message is None:
        return "nothing to send"
    if settings.mail_captured:
        await mail.mark_sent(message, utcnow(), captured=True)
        return "kept in the outbox (no SMTP_URL)"
    try:
        await deliver(message, smtp_url=settings.smtp_url, mail_from=settings.mail_from)
    except Exception as exc:  # noqa: BLE001 - any SMTP or network failure is retried
        log.warning("sending message %s failed: %s", message_id, exc)
        await mail.mark_failed(message, f"{type(exc).__name__}: {exc}", utcnow())
        return "failed, will retry"
    await mail.mark_sent(message, utcnow())
    return "sent"


async def draw_contest(ctx: Ctx, contest_id: int) -> str:
    winners = await closing.run_draw(contest_id, utcnow(), base_url=_settings(ctx).base_url)
    for message_id in await mail.due(utcnow()):
        await _enqueue(ctx, jobs.SEND_EMAIL, message_id)
    return f"{len(winners)} drawn"


async def close_contest(ctx: Ctx, contest_id: int) -> str:
    await closing.close(contest_id, utcnow())
    return await draw_contest(ctx, contest_id)


async def tick(ctx: Ctx) -> None:
    """Every few seconds: move contests along the clock and pick up lost work."""
    now = utcnow()
    await lifecycle.open_due(now)
    for contest_id in await lifecycle.due_for_closing(now):
        await _enqueue(ctx, jobs.CLOSE_CONTEST, contest_id)
    for message_id in await mail.due(now):
        await _enqueue(ctx, jobs.SEND_EMAIL, message_id)
    for report_id in await steps.pending_visit_reports(now - STALE_REPORT):
        await _enqueue(ctx, jobs.VERIFY_VISIT, report_id)
