"""The outbox: every email is a row first, sent at most once per key by the worker,
retried when the SMTP server fails, and written to the person in their language."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from contests import closing, jobs, mail
from contests.clock import utcnow
from contests.ids import public_id
from contests.models import Outbox, OutboxStatus
from contests.settings import Settings
from tests.conftest import Mailbox, eventually
from tests.factories import brand_with_marketer, email, entrant, live_contest
from workers.tasks import send_email


async def _queue_sign_in_mail(address: str, key: str) -> Outbox:
    # Dated an hour ahead so the worker's cron leaves it to the test.
    return await mail.queue(
        kind="sign-in",
        dedupe_key=key,
        template="sign_in",
        to_email=address,
        to_name="",
        locale="en",
        now=utcnow() + timedelta(hours=1),
        reply_to="contests@gymkana.test",
        link="http://testserver/auth/email/some-token",
        minutes=15,
    )


def _context(app: Any, settings: Settings) -> dict[str, Any]:
    return {"settings": settings, "redis": app.state.gymkana.queue}


async def test_a_message_is_sent_at_most_once_per_key(
    app: Any, settings: Settings, mailbox: Mailbox
) -> None:
    address, key = email(), f"test:{public_id()}"
    first = await _queue_sign_in_mail(address, key)
    second = await _queue_sign_in_mail(address, key)
    assert first.id == second.id
    assert await Outbox.filter(dedupe_key=key).count() == 1

    for _ in range(2):
        await send_email(_context(app, settings), first.id)
    assert len(mailbox.to(address)) == 1
    sent = await Outbox.get(id=first.id)
    assert sent.status is OutboxStatus.SENT and sent.attempts == 1 and sent.sent_at


async def test_an_smtp_failure_is_recorded_and_retried_later(
    app: Any, settings: Settings, mailbox: Mailbox
) -> None:
    address = email()
    message = await _queue_sign_in_mail(address, f"test:{public_id()}")
    unreachable = settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:1"})

    before = utcnow()
    assert await send_email(_context(app, unreachable), message.id) == "failed, will retry"
    failed = await Outbox.get(id=message.id)
    assert failed.status is OutboxStatus.PENDING
    assert failed.attempts == 1 and failed.last_error and failed.sent_at is None
    assert failed.next_attempt_at >= before + timedelta(seconds=30)
    assert not mailbox.to(address)

    assert await send_email(_context(app, settings), message.id) == "sent"
    sent = await Outbox.get(id=message.id)
    assert sent.status is OutboxStatus.SENT and sent.attempts == 2
    assert len(mailbox.to(address)) == 1


async def test_without_smtp_mail_stays_in_the_outbox(
    app: Any, settings: Settings, mailbox: Mailbox
) -> None:
    address = email()
    message = await _queue_sign_in_mail(address, f"test:{public_id()}")
    captured = settings.model_copy(update={"smtp_url": ""})
    await send_email(_context(app, captured), message.id)
    kept = await Outbox.get(id=message.id)
    assert kept.status is OutboxStatus.CAPTURED
    assert not mailbox.to(address)


async def test_winners_are_written_to_by_name_in_their_language(
    app: Any, settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, prizes=2)
    english = await entrant(contest, name="Ana", locale="en", complete=True)
    spanish = await entrant(contest, name="Luis", locale="es", complete=True)
    await english.fetch_related("participant")
    await spanish.fetch_related("participant")
    assert english.participant is not None and spanish.participant is not None
    ana, luis = english.participant.email, spanish.participant.email
    assert ana and luis

    assert await closing.close(contest.id, utcnow())
    await jobs.enqueue(app.state.gymkana.queue, settings.queue_name, jobs.DRAW_CONTEST, contest.id)

    # Each of them was also told, earlier, that they were in the draw.
    def winner_mail(address: str, word: str) -> list[EmailMessage]:
        return [m for m in mailbox.to(address) if word in str(m["Subject"])]

    async def both_mailed() -> bool:
        return bool(winner_mail(ana, "won") and winner_mail(luis, "ganado"))

    await eventually(both_mailed)
    [to_ana] = winner_mail(ana, "won")
    assert str(to_ana["Subject"]) == f"Ana, you won in “{contest.title}”!"
    assert str(to_ana["To"]).startswith("Ana <")
    assert str(to_ana["Reply-To"]) == brand.reply_to
    text = Mailbox.text(to_ana)
    assert "Hello Ana," in text and "Your prize: Coffee for a year" in text
    assert english.public_id in text

    [to_luis] = winner_mail(luis, "ganado")
    assert str(to_luis["Subject"]) == f"Luis, ¡has ganado en “{contest.title}”!"
    assert str(to_luis["Reply-To"]) == brand.reply_to
    text = Mailbox.text(to_luis)
    assert "Hola, Luis:" in text and "Tu premio: Coffee for a year" in text
    html = to_luis.get_body(preferencelist=("html",))
    assert html is not None and '<html lang="es">' in str(html.get_content())

    async def marked_sent() -> bool:
        return (
            await Outbox.filter(
                kind="winner", to_email__in=[ana, luis], status=OutboxStatus.SENT
            ).count()
            == 2
        )

    await eventually(marked_sent)


async def test_an_email_declares_its_language(
    app: Any, settings: Settings, mailbox: Mailbox
) -> None:
    address = email()
    message = await _queue_sign_in_mail(address, f"test:{public_id()}")
    await send_email(_context(app, settings), message.id)
    [received] = mailbox.to(address)
    assert received["Content-Language"] == "en"


async def test_mail_nobody_queued_is_sent_by_the_cron_tick_after_tick(
    settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    if settings.database_url.startswith("postgres"):
        pytest.skip("the cron's pace does not depend on the database")
    for _ in range(2):
        address = email()
        # A row with no job behind it, as when Redis lost the job: only the cron sends it.
        await mail.queue(
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

        async def delivered(address: str = address) -> bool:
            return bool(mailbox.to(address))

        await eventually(delivered, timeout=7)
