"""Mail is sent exactly once in effect, whatever happens to the worker sending it: real
`gymkana worker` processes, killed at each point of the SMTP conversation, with a real
SMTP server (aiosmtpd) that holds the conversation there until the worker is dead."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from contests import jobs, mail
from contests.clock import utcnow
from contests.ids import public_id
from contests.models import Outbox, OutboxStatus
from contests.settings import Settings
from tests.conftest import Mailbox, eventually
from tests.factories import email
from tests.support.workers import Workers

LEASE_SECONDS = 2


@dataclass
class Gate:
    """An SMTP server that can hold one recipient's conversation at DATA (before it
    accepts the message) or at QUIT (after it accepted it)."""

    hold_at: str = ""
    hold_for: str = ""
    accepted: list[EmailMessage] = field(default_factory=list)
    # The Message-ID of every message offered, accepted or not.
    offered: list[str] = field(default_factory=list)
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _held_sessions: set[int] = field(default_factory=set)

    async def _hold(self) -> None:
        self.reached.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.offered.append(str(message["Message-ID"]))
        ours = self.hold_for in envelope.rcpt_tos
        if ours and self.hold_at == "data" and not self.reached.is_set():
            await self._hold()
            # The worker died before the server answered: nothing was accepted.
            return "451 Requested action aborted: try again later"
        self.accepted.append(message)
        if ours and self.hold_at == "quit":
            self._held_sessions.add(id(session))
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        if id(session) in self._held_sessions and not self.reached.is_set():
            await self._hold()
        return "221 Bye"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.accepted if address in str(m["To"])]


@pytest.fixture
def gate() -> Iterator[tuple[Gate, int]]:
    held = Gate()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(held, hostname="127.0.0.1", port=port)
    controller.start()
    yield held, port
    held.release.set()
    controller.stop()


@pytest.fixture
async def workers(
    settings: Settings, gate: tuple[Gate, int], tmp_path: Path
) -> AsyncIterator[Workers]:
    running = Workers(
        settings,
        tmp_path,
        {"SMTP_URL": f"smtp://127.0.0.1:{gate[1]}", "MAIL_LEASE_SECONDS": str(LEASE_SECONDS)},
    )
    yield running
    await running.stop_all()


async def _queued(address: str) -> Outbox:
    # Dated ahead so that no other worker's clock picks it up: only the job sends it,
    # or, once a lease has run out, any worker's clock.
    return await mail.queue(
        kind="sign-in",
        dedupe_key=f"test:{public_id()}",
        template="sign_in",
        to_email=address,
        to_name="",
        locale="en",
        now=utcnow() + timedelta(hours=1),
        reply_to="contests@gymkana.test",
        link="http://testserver/auth/email/some-token",
        minutes=15,
    )


async def _send(app: Any, workers: Workers, message: Outbox) -> None:
    await jobs.enqueue(app.state.gymkana.queue, workers.queue_name, jobs.SEND_EMAIL, message.id)


async def _reached(held: Gate) -> None:
    await eventually(lambda: asyncio.sleep(0, held.reached.is_set()), 20)


async def test_a_worker_killed_after_the_server_accepted_leaves_the_message_sent(
    app: Any, workers: Workers, gate: tuple[Gate, int], mailbox: Mailbox
) -> None:
    held, _ = gate
    address = email()
    held.hold_at, held.hold_for = "quit", address
    message = await _queued(address)
    first = await workers.start()
    await _send(app, workers, message)

    await _reached(held)
    # The server has the message and the worker waits for its goodbye: it is handed over.
    handed = await Outbox.get(id=message.id)
    assert handed.status is OutboxStatus.SENT and handed.attempts == 1
    workers.kill(first)
    held.release.set()

    await workers.start()
    # Past the lease and a tick of the clock, nothing is sent again.
    await asyncio.sleep(LEASE_SECONDS + 6)
    assert len(held.to(address)) + len(mailbox.to(address)) == 1
    after = await Outbox.get(id=message.id)
    assert after.status is OutboxStatus.SENT and after.attempts == 1


async def test_a_worker_killed_before_the_server_accepted_is_replaced_with_the_same_message_id(
    app: Any, workers: Workers, gate: tuple[Gate, int], mailbox: Mailbox
) -> None:
    held, _ = gate
    address = email()
    held.hold_at, held.hold_for = "data", address
    message = await _queued(address)
    first = await workers.start()
    await _send(app, workers, message)

    await _reached(held)
    taken = await Outbox.get(id=message.id)
    assert taken.status is OutboxStatus.SENDING and taken.message_id
    workers.kill(first)
    held.release.set()
    killed_at = asyncio.get_running_loop().time()

    await workers.start()

    async def sent() -> bool:
        return await Outbox.filter(id=message.id, status=OutboxStatus.SENT).exists()

    await eventually(sent, timeout=30)
    recovered_in = asyncio.get_running_loop().time() - killed_at
    [received] = held.to(address) + mailbox.to(address)
    assert str(received["Message-ID"]) == taken.message_id
    assert held.offered.count(taken.message_id) >= 1
    after = await Outbox.get(id=message.id)
    assert after.attempts == 2 and after.message_id == taken.message_id
    # The lease, a tick of the clock and a worker's start, with room to spare.
    assert recovered_in < LEASE_SECONDS + 20


async def test_two_workers_never_send_one_message_together(
    app: Any, workers: Workers, gate: tuple[Gate, int], mailbox: Mailbox
) -> None:
    held, _ = gate
    await workers.start()
    await workers.start()
    addresses = [email() for _ in range(20)]
    messages = [await _queued(address) for address in addresses]
    # Each message's job queued twice under two names: both workers try every one.
    queue = app.state.gymkana.queue
    for message in messages:
        for attempt in (0, 1):
            await jobs.enqueue(
                queue, workers.queue_name, jobs.SEND_EMAIL, message.id, attempt=attempt
            )

    async def all_sent() -> bool:
        ids = [m.id for m in messages]
        return await Outbox.filter(id__in=ids, status=OutboxStatus.SENT).count() == len(ids)

    await eventually(all_sent, timeout=30)
    await asyncio.sleep(1)
    for address in addresses:
        assert len(held.to(address)) + len(mailbox.to(address)) == 1, address
    assert {m.attempts for m in await Outbox.filter(id__in=[m.id for m in messages])} == {1}


async def test_of_two_claims_at_once_one_wins(database_url: Any) -> None:
    message = await _queued(email())
    lease = timedelta(seconds=30)
    now = utcnow()
    taken = await asyncio.gather(
        *(mail.claim(message.id, now, lease=lease, domain="gymkana.test") for _ in range(5))
    )
    assert len([t for t in taken if t is not None]) == 1
    # Held: not due to anyone until its lease has run out.
    assert message.id not in [i for i, _ in await mail.due(now + timedelta(seconds=29))]
    assert message.id in [i for i, _ in await mail.due(now + timedelta(seconds=31))]
