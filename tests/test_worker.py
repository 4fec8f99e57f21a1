"""The worker's lanes: bulk work never delays the clock, and a tick runs once however
many workers' clocks fire for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings

from contests import jobs, mail
from contests.clock import utcnow
from contests.ids import public_id
from contests.models import Outbox, OutboxStatus
from contests.settings import Settings
from tests.conftest import Mailbox, eventually
from tests.factories import email
from workers.tasks import claim_tick

# Several times what the worker verifies in the time the mail is given.
BACKLOG = 2_000


async def test_mail_goes_out_while_a_backlog_of_visits_waits_in_its_own_lane(
    settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    queue = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    evidence_lane = jobs.queue_of(settings.queue_name, jobs.VERIFY_EVIDENCE)
    try:
        # Verifications of evidence that does not exist: each a real job, quickly done.
        for start in range(0, BACKLOG, 500):
            await asyncio.gather(
                *(
                    jobs.enqueue(queue, settings.queue_name, jobs.VERIFY_EVIDENCE, -n)
                    for n in range(start + 1, start + 501)
                )
            )
        address = email()
        message = await mail.queue(
            kind="sign-in",
            dedupe_key=f"test:{public_id()}",
            template="sign_in",
            to_email=address,
            to_name="",
            locale="en",
            now=utcnow(),
            reply_to="contests@gymkana.test",
            link="http://testserver/auth/email/some-token",
            minutes=15,
        )
        await jobs.enqueue(queue, settings.queue_name, jobs.SEND_EMAIL, message.id)

        async def sent() -> bool:
            return await Outbox.filter(id=message.id, status=OutboxStatus.SENT).exists()

        await eventually(sent, timeout=10)
        waiting: int = await queue.zcard(evidence_lane)
        assert waiting > 0, "the backlog was gone before the mail: nothing was shown"
        assert mailbox.to(address)
    finally:
        await queue.delete(evidence_lane)
        await queue.aclose()


async def test_workers_whose_clocks_differ_by_seconds_run_each_tick_once(
    settings: Settings,
) -> None:
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    ctx = {"redis": redis, "settings": settings}
    try:
        first = datetime(2026, 11, 25, 10, 0, 5, 100_000, tzinfo=UTC)
        late = datetime(2026, 11, 25, 10, 0, 8, 900_000, tzinfo=UTC)
        following = datetime(2026, 11, 25, 10, 0, 10, tzinfo=UTC)
        assert await claim_tick(ctx, first)
        assert not await claim_tick(ctx, late)
        assert await claim_tick(ctx, following)
    finally:
        await redis.aclose()
