"""arq tasks: thin. Load by id, call the service in contests/, done. Each is safe to
run twice."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from typing import Any

from arq import Retry
from redis.exceptions import RedisError

from contests import beacon, claims, closing, installation, jobs, lifecycle, mail
from contests.clock import utcnow
from contests.settings import Settings
from contests.steps import verdicts
from contests.tokens import Tokens
from workers.mailer import deliver, mail_domain

log = logging.getLogger("gymkana.worker")

Ctx = dict[str, Any]
# Evidence still pending after this long lost its job; the tick queues a sweep.
STALE_EVIDENCE = timedelta(seconds=2)
# A verification job hands the rest of a long backlog to a fresh job after this long.
VERIFY_SECONDS = 10
# How soon a draw waiting for the last reports' verdicts tries again.
DRAW_RETRY_SECONDS = 1
# Seconds between the clock's ticks (the cron fires on every multiple of it).
TICK_PERIOD = 5


def _settings(ctx: Ctx) -> Settings:
    settings: Settings = ctx["settings"]
    return settings


async def _enqueue(ctx: Ctx, job: str, object_id: int) -> None:
    await jobs.enqueue(ctx["redis"], _settings(ctx).queue_name, job, object_id)


async def verify_evidence(ctx: Ctx, wave: int) -> str:
    """Judge pending reports a batch at a time until none waits. ``wave`` only names the
    job (the first report of the beacon's batch that queued it): any job takes whatever
    waits, oldest first, so a lost or late job costs nothing but time."""
    settings = _settings(ctx)
    started = time.monotonic()
    verified = rejected = 0
    while True:
        batch = await verdicts.verify_pending(links=ctx["links"], limit=settings.verify_batch)
        verified, rejected = verified + batch.verified, rejected + batch.rejected
        if batch.judged < settings.verify_batch:
            return f"{verified} verified, {rejected} rejected"
        if time.monotonic() - started > VERIFY_SECONDS:
            # A long backlog is shared out: the next job may go to another worker.
            await _enqueue(ctx, jobs.VERIFY_EVIDENCE, wave + 1)
            return f"{verified} verified, {rejected} rejected, more queued"


async def _enqueue_mail(ctx: Ctx, now: datetime) -> None:
    # One job id per attempt: the job a killed worker left behind keeps its id for a
    # while in Redis, and must not stop the next attempt from being queued.
    for message_id, attempts in await mail.due(now):
        await jobs.enqueue(
            ctx["redis"], _settings(ctx).queue_name, jobs.SEND_EMAIL, message_id, attempt=attempts
        )


async def check_installation(ctx: Ctx, contest_id: int) -> str:
    settings = _settings(ctx)
    limits = installation.Limits(
        allow_private=settings.install_check_allow_private,
        timeout=settings.install_check_timeout,
        max_bytes=settings.install_check_max_bytes,
    )
    results = await installation.check_installation(
        contest_id, marker=ctx["links"].snippet(), limits=limits, now=utcnow()
    )
    return "contest gone" if results is None else f"{len(results)} page(s) checked"


async def send_email(ctx: Ctx, message_id: int) -> str:
    settings = _settings(ctx)
    message = await mail.claim(
        message_id,
        utcnow(),
        lease=timedelta(seconds=settings.mail_lease_seconds),
        domain=mail_domain(settings.mail_from),
    )
    if message is None:
        return "nothing to send"
    if settings.mail_captured:
        await mail.mark_sent(message, utcnow(), captured=True)
        return "kept in the outbox (no SMTP_URL)"

    async def handed_over() -> None:
        await mail.mark_sent(message, utcnow())

    try:
        await deliver(
            message,
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            handed_over=handed_over,
        )
    except Exception as exc:  # noqa: BLE001 - any SMTP or network failure is retried
        log.warning("sending message %s failed: %s", message_id, exc)
        await mail.mark_failed(message, f"{type(exc).__name__}: {exc}", utcnow())
        return "failed, will retry"
    return "sent"


def _tokens(ctx: Ctx) -> Tokens:
    return Tokens(_settings(ctx).secret_key)


def _lease_key(ctx: Ctx, contest_id: int) -> str:
    return f"{_settings(ctx).queue_name}:drawing:{contest_id}"


@asynccontextmanager
async def _contest_lease(ctx: Ctx, contest_id: int) -> AsyncIterator[bool]:
    """Hold the contest for this job while it closes or draws, renewing the hold as long
    as the worker lives; yields False when another job holds it.

    arq keeps the job of a killed worker "in progress" for the lane's time-out (ten
    minutes) and will not start another under its id: the lease runs out within
    seconds instead, and the clock queues the work afresh under a new id."""
    seconds = _settings(ctx).draw_lease_seconds
    lease = ctx["redis"].lock(_lease_key(ctx, contest_id), timeout=seconds, blocking=False)
    if not await lease.acquire():
        yield False
        return

    async def renew() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            await lease.reacquire()

    renewing = asyncio.create_task(renew())
    try:
        yield True
    finally:
        renewing.cancel()
        # A lease lost (the loop blocked past it) or left to expire (Redis gone) changes
        # nothing once the work is done: the database says what was closed and drawn.
        with suppress(asyncio.CancelledError, RedisError):
            await renewing
        with suppress(RedisError):
            await lease.release()


async def _draw(ctx: Ctx, contest_id: int) -> str:
    winners = await closing.run_draw(
        contest_id, utcnow(), links=ctx["links"], fetching=beacon.fetching(_settings(ctx))
    )
    if not winners and await closing.waiting_for_verdicts(contest_id):
        # Reports made before the close are still being judged: the list waits for them.
        raise Retry(defer=DRAW_RETRY_SECONDS)
    await claims.tell_due(utcnow(), links=ctx["links"], tokens=_tokens(ctx))
    await _enqueue_mail(ctx, utcnow())
    return f"{len(winners)} drawn"


async def draw_contest(ctx: Ctx, contest_id: int) -> str:
    async with _contest_lease(ctx, contest_id) as held:
        if not held:
            return "another job is closing or drawing it"
        return await _draw(ctx, contest_id)


async def close_contest(ctx: Ctx, contest_id: int) -> str:
    """Close the contest if it is still open, then draw it in the same job, under the
    same lease: a draw queued separately would find the lease still held."""
    async with _contest_lease(ctx, contest_id) as held:
        if not held:
            return "another job is closing or drawing it"
        closed = await closing.close(contest_id, utcnow(), actor="system")
        drawn = await _draw(ctx, contest_id)
    return f"closed, {drawn}" if closed else f"already closed, {drawn}"


async def claim_tick(ctx: Ctx, now: datetime) -> bool:
    """Whether this worker runs the tick of ``now``'s slot. Each worker's cron fires on
    its own clock; workers whose clocks differ by a few seconds land in the same slot,
    and only the first to claim it runs it."""
    slot = int(now.timestamp()) // TICK_PERIOD
    key = f"{_settings(ctx).queue_name}:tick:{slot}"
    return bool(await ctx["redis"].set(key, b"1", nx=True, ex=TICK_PERIOD * 12))


async def tick(ctx: Ctx) -> None:
    """Every few seconds: move contests along the clock and pick up lost work."""
    now = utcnow()
    if not await claim_tick(ctx, now):
        return
    await lifecycle.open_due(now)
    slot = int(now.timestamp()) // TICK_PERIOD
    for contest_id in await lifecycle.due_for_closing(now):
        if await ctx["redis"].exists(_lease_key(ctx, contest_id)):
            continue
        # A new job id each tick: the job of a killed worker keeps its id in progress
        # for the lane's time-out, and would stop the same id from being queued again.
        await jobs.enqueue(
            ctx["redis"], _settings(ctx).queue_name, jobs.CLOSE_CONTEST, contest_id, attempt=slot
        )
    await claims.advance(now, links=ctx["links"], tokens=_tokens(ctx))
    await _enqueue_mail(ctx, now)
    if await verdicts.any_pending(now - STALE_EVIDENCE):
        # One sweep per tick slot: a job lost with Redis, or never queued, is made good.
        await _enqueue(ctx, jobs.VERIFY_EVIDENCE, -(int(now.timestamp()) // TICK_PERIOD))
