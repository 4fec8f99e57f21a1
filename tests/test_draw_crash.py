"""A contest is drawn exactly once, whatever happens to the workers: real `gymkana worker`
processes killed in the middle of a close and of a draw, two workers running the clock
at once, a marketer pressing "Close now" twice, and a beacon round that is late or whose
relay cannot be reached. The draws mix in rounds of a drand network of the tests' own,
served by a relay on loopback that can hold a request until the worker is dead."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests import beacon, entries, verify
from contests.clock import utcnow
from contests.models import (
    AuditLog,
    Contest,
    ContestStatus,
    Draw,
    FrozenLines,
    Outbox,
    OutboxStatus,
    Step,
    Winner,
)
from contests.settings import Settings
from tests.conftest import Mailbox, eventually
from tests.factories import (
    LINKS,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    email,
    live_contest,
    marketer_console,
    participant,
    published_certificate,
)
from tests.support.servers import asgi_server, free_port
from tests.support.workers import Workers

LEASE_SECONDS = 3
# The lease, a tick of the clock (every 5 s), a worker's start, and room to spare.
RECOVERY_SECONDS = LEASE_SECONDS + 15


def _network(relay: str) -> beacon.Network:
    """A drand network of the tests' own: the demo beacon's key, a round a second."""
    demo = beacon.demo_network(utcnow())
    chain_hash = hashlib.sha256(b"gymkana test network").hexdigest()
    return beacon.Network(
        beacon.DRAND, chain_hash, demo.public_key, 1, demo.genesis, relays=(relay,)
    )


@dataclass
class Relay:
    """A relay of that network that signs each round once it is due; with ``hold`` set,
    the first request waits (until ``release``) without an answer."""

    network: beacon.Network | None = None
    hold: bool = False
    # False: up, but no round is out yet (drand answers 425 Too Early).
    serving: bool = True
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    asked: list[int] = field(default_factory=list)

    def app(self) -> Starlette:
        async def public(request: Request) -> Response:
            number = int(request.path_params["round"])
            self.asked.append(number)
            if self.hold and not self.reached.is_set():
                self.reached.set()
                await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            assert self.network is not None
            if not self.serving or utcnow() < self.network.round_time(number):
                return JSONResponse({"error": "round not yet"}, status_code=425)
            signed = beacon.sign_demo_round(number)
            return JSONResponse(
                {"round": number, "signature": signed.signature, "randomness": signed.randomness}
            )

        return Starlette(routes=[Route("/{chain}/public/{round:int}", public)])


@pytest.fixture
def relay() -> Iterator[tuple[Relay, str]]:
    served = Relay()
    with asgi_server(served.app()) as base:
        served.network = _network(base)
        yield served, base
    served.release.set()


@pytest.fixture
async def workers(
    settings: Settings, relay: tuple[Relay, str], tmp_path: Path
) -> AsyncIterator[Workers]:
    running = Workers(
        settings,
        tmp_path,
        {
            "DRAW_LEASE_SECONDS": str(LEASE_SECONDS),
            "DRAND_RELAYS": relay[1],
            "DRAND_TIMEOUT_SECONDS": "20",
            "DRAND_ATTEMPTS": "1",
        },
        # The app's own queue: the console's "Close now" queues its draw there.
        queue_name=settings.queue_name,
    )
    yield running
    await running.stop_all()


async def _contest(network: beacon.Network, prizes: int = 2) -> tuple[Contest, list[str]]:
    """A contest on the network with five finishers, each with an address, that names
    its round the moment it closes (no margin) and whose end comes when the test says."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, network=network, prizes=prizes)
    assert contest.beacon is not None
    await Contest.filter(id=contest.id).update(beacon={**contest.beacon, "margin_seconds": 0})
    addresses = [email("finisher") for _ in range(5)]
    steps = await Step.filter(contest=contest)
    for number, address in enumerate(addresses):
        person = await participant(name=f"P{number}", address=address)
        entry = await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
        for step in steps:
            await entries.record_completion(entry, step, utcnow(), links=LINKS)
    return await Contest.get(id=contest.id), addresses


async def _end_now(contest: Contest) -> None:
    """The contest's end comes: the next tick of a worker's clock closes it."""
    await Contest.filter(id=contest.id).update(ends_at=utcnow())


async def _drawn(contest: Contest) -> bool:
    return await Draw.filter(contest=contest, drawn_at__isnull=False).exists()


async def _drawn_once_as_certified(
    contest: Contest, addresses: list[str], mailbox: Mailbox, *, settle: bool = True
) -> dict[str, Any]:
    """One draw, whose winners are those its certificate names, which verifies, and
    whose prize winners each get exactly one email (``settle``: still one a tick of the
    clock later; a test checking several contests waits once, before the last)."""
    assert await Draw.filter(contest=contest).count() == 1
    assert await AuditLog.filter(action="contest.drawn", target=contest.slug).count() == 1
    certificate = await published_certificate(contest)
    report = verify.verify(certificate)
    assert report.problems == []
    # The only notice: this network is the tests' own, not quicknet.
    assert [n for n in report.notices if "is not quicknet" not in n] == []
    assert certificate["beacon"] is not None and certificate["steerable"] is False
    winners = (
        await Winner.filter(contest=contest).order_by("rank").prefetch_related("entry__participant")
    )
    assert [w.entry.public_id for w in winners] == certificate["order"]
    assert [w.rank for w in winners] == list(range(1, len(winners) + 1))
    prize_holders = [w for w in winners if not w.alternate]
    assert len(prize_holders) == certificate["winners"]
    holders = {str(w.entry.participant.email) for w in prize_holders if w.entry.participant}

    async def about_the_draw(address: str) -> list[str]:
        """The Message-IDs received at the address, but for the "you are in" message
        every finisher had before the close."""
        entered = {
            str(m)
            for m in await Outbox.filter(to_email=address, kind="in-draw").values_list(
                "message_id", flat=True
            )
        }
        got = [str(m["Message-ID"]) for m in mailbox.to(address)]
        return [m for m in got if m not in entered]

    async def told() -> bool:
        return all([await about_the_draw(address) for address in holders])

    await eventually(told, timeout=30)
    if settle:
        # A tick of the clock later, nobody has been told twice.
        await asyncio.sleep(6)
    for address in addresses:
        assert len(await about_the_draw(address)) == (1 if address in holders else 0), address
        assert await Outbox.filter(to_email=address).exclude(kind="in-draw").count() == (
            1 if address in holders else 0
        )
    assert (await Contest.get(id=contest.id)).status is ContestStatus.DRAWN
    return certificate


async def _winners_told(contest: Contest) -> bool:
    """Drawn, and every prize holder's email queued."""
    return (
        await _drawn(contest)
        and not await Winner.filter(
            contest=contest, alternate=False, notified_at__isnull=True
        ).exists()
    )


def _postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgres")


async def _waiting_for_lock(url: str, statement: str) -> bool:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        waiting = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE $1",
            f"{statement}%",
        )
    finally:
        await connection.close()
    return bool(waiting)


async def test_a_worker_killed_while_fetching_the_round_is_replaced_and_the_draw_runs_once(
    client: Any, workers: Workers, relay: tuple[Relay, str], mailbox: Mailbox
) -> None:
    served, base = relay
    served.hold = True
    contest, addresses = await _contest(_network(base))
    first = await workers.start()
    await _end_now(contest)

    await eventually(lambda: asyncio.sleep(0, served.reached.is_set()), 30)
    # The list is public and the draw is under way, waiting on the relay: nothing drawn.
    record = await Draw.get(contest=contest)
    assert record.drawn_at is None and record.beacon_round is None
    assert not await Winner.filter(contest=contest).exists()
    for path in (f"/c/{contest.slug}/draw", f"/c/{contest.slug}"):
        page = await client.get(path)
        assert page.status_code == 200 and 'data-testid="beacon-waiting"' in page.text, path
    workers.kill(first)
    served.release.set()
    killed_at = asyncio.get_running_loop().time()

    await workers.start()
    await eventually(lambda: _drawn(contest), RECOVERY_SECONDS + 5)
    recovered_in = asyncio.get_running_loop().time() - killed_at
    assert recovered_in < RECOVERY_SECONDS, workers.logs()
    certificate = await _drawn_once_as_certified(contest, addresses, mailbox)
    assert certificate["beacon"]["round"] == (await Contest.get(id=contest.id)).beacon["round"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        # In the middle of the close: the contest is closed, its list not written yet.
        ("frozen_lines", 'DELETE FROM "frozen_lines"'),
        # In the middle of the draw's transaction, writing the winners.
        ("winner", 'INSERT INTO "winner"'),
        # Right after the draw committed, queueing the first winner's email.
        ("outbox", 'INSERT INTO "outbox"'),
    ],
)
async def test_a_worker_killed_in_the_middle_of_closing_or_drawing_is_replaced(
    settings: Settings,
    workers: Workers,
    relay: tuple[Relay, str],
    mailbox: Mailbox,
    table: str,
    statement: str,
) -> None:
    if not _postgres(settings):
        pytest.skip("holds a PostgreSQL table lock to stop the worker at one statement")
    _, base = relay
    contest, addresses = await _contest(_network(base))
    url = settings.database_url.replace("postgres://", "postgresql://", 1)
    first = await workers.start()

    async def entrants_told() -> bool:
        # Sends held by the lock would take the worker's database connections.
        return (
            not await Outbox.filter(to_email__in=addresses)
            .exclude(status=OutboxStatus.SENT)
            .exists()
        )

    await eventually(entrants_told, 30)
    holder = await asyncpg.connect(url)
    locking = holder.transaction()
    await locking.start()
    await holder.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
    try:
        await _end_now(contest)
        await eventually(lambda: _waiting_for_lock(url, statement), 30)
        status = (await Contest.get(id=contest.id)).status
        assert status is (ContestStatus.DRAWN if table == "outbox" else ContestStatus.CLOSED)
        record = await Draw.filter(contest=contest).first()
        if table == "frozen_lines":
            assert record is None
        elif table == "winner":
            assert record is not None and record.drawn_at is None
            assert record.beacon_round is not None
        else:
            assert record is not None and record.drawn_at is not None
            assert not await Winner.filter(contest=contest, notified_at__isnull=False).exists()
        workers.kill(first)
    finally:
        await locking.rollback()
        await holder.close()
    killed_at = asyncio.get_running_loop().time()

    await workers.start()
    await eventually(lambda: _winners_told(contest), RECOVERY_SECONDS + 5)
    assert asyncio.get_running_loop().time() - killed_at < RECOVERY_SECONDS, workers.logs()
    await _drawn_once_as_certified(contest, addresses, mailbox)
    listed = await FrozenLines.filter(contest=contest).count()
    assert listed == 1


async def test_two_workers_running_the_clock_at_once_draw_once(
    workers: Workers, relay: tuple[Relay, str], mailbox: Mailbox
) -> None:
    _, base = relay
    contests = [await _contest(_network(base), prizes=1) for _ in range(3)]
    await workers.start()
    await workers.start()
    for contest, _ in contests:
        await _end_now(contest)
    for number, (contest, addresses) in enumerate(contests, start=1):
        await eventually(lambda c=contest: _drawn(c), 30)
        await _drawn_once_as_certified(contest, addresses, mailbox, settle=number == len(contests))
        assert await AuditLog.filter(action="contest.closed", target=contest.slug).count() == 1


async def test_a_marketer_pressing_close_now_twice_closes_once_and_draws_once(
    app: Any, workers: Workers, relay: tuple[Relay, str], mailbox: Mailbox
) -> None:
    _, base = relay
    brand, address = await brand_and_marketer_address()
    contest, addresses = await _contest(_network(base))
    await Contest.filter(id=contest.id).update(brand=brand)
    await workers.start()
    await workers.start()
    async with marketer_console(app, mailbox, address) as console:
        path = f"/console/{brand.slug}/contests/{contest.id}"
        token = await csrf(console, path)
        form = {"csrf_token": token, "confirm": "on"}
        pressed = await asyncio.gather(
            console.post(f"{path}/close", data=form), console.post(f"{path}/close", data=form)
        )
        assert [r.status_code for r in pressed] == [303, 303], [r.text for r in pressed]
        await eventually(lambda: _drawn(contest), 30)
        page = await console.get(path)
        assert page.status_code == 200
    assert await AuditLog.filter(action="contest.closed", target=contest.slug).count() == 1
    await _drawn_once_as_certified(contest, addresses, mailbox)


async def test_the_draw_waits_for_an_unreachable_or_late_round_and_says_so(
    app: Any, client: Any, settings: Settings, tmp_path: Path, mailbox: Mailbox
) -> None:
    """The relay is first unreachable (nobody listens on its port), then up without the
    round, then serves it: only then is the contest drawn, on that round."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    network = _network(base)
    contest, addresses = await _contest(network)
    waiting = Workers(
        settings,
        tmp_path,
        {
            "DRAW_LEASE_SECONDS": str(LEASE_SECONDS),
            "DRAND_RELAYS": base,
            "DRAND_TIMEOUT_SECONDS": "2",
            "DRAND_ATTEMPTS": "1",
        },
    )
    try:
        await waiting.start()
        await waiting.start()
        await _end_now(contest)

        async def said(testid: str) -> bool:
            page = await client.get(f"/c/{contest.slug}/draw")
            assert page.status_code == 200
            return f'data-testid="{testid}"' in page.text

        await eventually(lambda: said("beacon-late"), 30)
        record = await Draw.get(contest=contest)
        assert record.drawn_at is None and record.beacon_round is None
        assert "no relay gave a valid round" in record.beacon_problem
        named = (await Contest.get(id=contest.id)).beacon
        assert named is not None
        page = await client.get(f"/c/{contest.slug}/draw")
        assert str(named["round"]) in page.text
        contest_page = await client.get(f"/c/{contest.slug}")
        assert 'data-testid="beacon-late"' in contest_page.text

        # The relay comes up, without the round: still late, still not drawn.
        late = Relay(network=network, serving=False)
        with asgi_server(late.app(), port=port):
            await eventually(lambda: asyncio.sleep(0, len(late.asked) >= 2), 30)
            await asyncio.sleep(0.5)
        assert set(late.asked) == {named["round"]}
        assert not await _drawn(contest)
        assert not await Winner.filter(contest=contest).exists()
        assert await said("beacon-late")
        assert (await Contest.get(id=contest.id)).status is ContestStatus.CLOSED

        # The round is served: the draw runs on it.
        with asgi_server(Relay(network=network).app(), port=port):
            await eventually(lambda: _drawn(contest), 30)
        certificate = await _drawn_once_as_certified(contest, addresses, mailbox)
        assert certificate["beacon"]["round"] == named["round"]
        assert not await said("beacon-late")
    finally:
        await waiting.stop_all()
