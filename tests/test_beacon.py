"""The draw's public randomness: real quicknet rounds checked offline, relays that fail or
lie, and a contest whose draw waits for its named round and runs on it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests import authoring, beacon, chainlog, closing, draw, entries, verify
from contests.authoring import ContestDraft
from contests.clock import utcnow
from contests.models import Contest, ContestStatus, Draw, Step
from tests.factories import (
    LINKS,
    brand_with_marketer,
    live_contest,
    participant,
    published_certificate,
)
from tests.support.servers import asgi_server, free_port

# Real rounds of the League of Entropy's quicknet, as its relays publish them.
ROUND_1000 = beacon.Round(
    1000,
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39",
    "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd",
)
ROUND_10024141 = beacon.Round(
    10024141,
    "8c87caf26bb4f5e9fdfad5ddf739ff8683344f8cf04a8c381225ff067557b5d9d51937eed765fcef21971bf5ddef44bb",
    beacon.randomness_of(
        "8c87caf26bb4f5e9fdfad5ddf739ff8683344f8cf04a8c381225ff067557b5d9d51937eed765fcef21971bf5ddef44bb"
    ),
)
QUICKNET = beacon.quicknet(relays=())


def test_real_quicknet_rounds_verify_against_its_public_key() -> None:
    for recorded in (ROUND_1000, ROUND_10024141):
        beacon.check_round(
            beacon.QUICKNET_PUBLIC_KEY, recorded.number, recorded.signature, recorded.randomness
        )


@pytest.mark.parametrize(
    ("number", "signature", "randomness", "says"),
    [
        (1001, ROUND_1000.signature, ROUND_1000.randomness, "does not match the key"),
        (1000, ROUND_10024141.signature, ROUND_10024141.randomness, "does not match the key"),
        (1000, ROUND_1000.signature, ROUND_10024141.randomness, "SHA-256 of the signature"),
        (1000, ROUND_1000.signature.upper(), ROUND_1000.randomness, "lowercase hexadecimal"),
        (1000, "00" * 48, beacon.randomness_of("00" * 48), "not a valid curve point"),
        (0, ROUND_1000.signature, ROUND_1000.randomness, "at least 1"),
    ],
)
def test_a_round_that_is_not_the_networks_is_refused(
    number: int, signature: str, randomness: str, says: str
) -> None:
    with pytest.raises(beacon.BeaconError, match=says):
        beacon.check_round(beacon.QUICKNET_PUBLIC_KEY, number, signature, randomness)


def test_the_demo_beacon_signs_with_its_own_key_not_quicknets() -> None:
    demo = beacon.demo_network(datetime(2026, 11, 25, tzinfo=UTC))
    signed = beacon.sign_demo_round(1000)
    beacon.check_round(demo.public_key, 1000, signed.signature, signed.randomness)
    with pytest.raises(beacon.BeaconError):
        beacon.check_round(beacon.QUICKNET_PUBLIC_KEY, 1000, signed.signature, signed.randomness)


def test_the_named_round_is_the_first_published_after_the_moment() -> None:
    at_1000 = QUICKNET.round_time(1000)
    assert at_1000 == datetime.fromtimestamp(beacon.QUICKNET_GENESIS + 999 * 3, UTC)
    assert QUICKNET.round_after(at_1000 - timedelta(microseconds=1)) == 1000
    assert QUICKNET.round_after(at_1000) == 1001
    assert QUICKNET.round_after(at_1000 + timedelta(seconds=2.9)) == 1001
    named = beacon.named_round(QUICKNET, at_1000 - timedelta(seconds=31), 30)
    assert (named["round"], named["round_at"]) == (1000, draw.utc_text(at_1000))


class Relay:
    """A drand relay on loopback that serves the rounds it has been given."""

    def __init__(self) -> None:
        self.rounds: dict[int, dict[str, Any]] = {}
        self.asked: list[str] = []

    def app(self) -> Starlette:
        async def public(request: Request) -> Response:
            self.asked.append(request.url.path)
            if request.path_params["chain"] != beacon.QUICKNET_CHAIN_HASH:
                return JSONResponse({"error": "unknown chain"}, status_code=404)
            found = self.rounds.get(int(request.path_params["round"]))
            if found is None:
                return JSONResponse({"error": "round not yet"}, status_code=425)
            return JSONResponse(found)

        return Starlette(routes=[Route("/{chain}/public/{round:int}", public)])

    def publish(self, recorded: beacon.Round, **overrides: Any) -> None:
        self.rounds[recorded.number] = {
            "round": recorded.number,
            "randomness": recorded.randomness,
            "signature": recorded.signature,
            **overrides,
        }


@contextmanager
def relay() -> Iterator[tuple[Relay, str]]:
    served = Relay()
    with asgi_server(served.app()) as base:
        yield served, base


def _nobody_listens() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _fetching(*relays: str) -> beacon.Fetching:
    return beacon.Fetching(relays=relays, timeout=2.0, attempts=1)


async def test_a_round_is_fetched_from_the_relay_that_answers_and_checked() -> None:
    after = QUICKNET.round_time(1000) + timedelta(seconds=1)
    with relay() as (served, base):
        served.publish(ROUND_1000)
        fetched = await beacon.fetch_round(
            QUICKNET, 1000, after, _fetching(_nobody_listens(), base)
        )
    assert fetched == ROUND_1000
    assert served.asked == [f"/{beacon.QUICKNET_CHAIN_HASH}/public/1000"]


async def test_a_relay_that_lies_about_a_round_is_not_believed() -> None:
    after = QUICKNET.round_time(1000) + timedelta(seconds=1)
    with relay() as (served, base):
        # Another round's genuine signature, passed off as round 1000's.
        served.publish(
            ROUND_1000,
            signature=ROUND_10024141.signature,
            randomness=ROUND_10024141.randomness,
        )
        with pytest.raises(beacon.BeaconError, match="no relay gave a valid round 1000"):
            await beacon.fetch_round(QUICKNET, 1000, after, _fetching(base))


async def test_a_round_not_due_yet_is_not_even_asked_for() -> None:
    before = QUICKNET.round_time(1000) - timedelta(seconds=1)
    with relay() as (served, base):
        served.publish(ROUND_1000)
        with pytest.raises(beacon.BeaconError, match="is due at"):
            await beacon.fetch_round(QUICKNET, 1000, before, _fetching(base))
    assert served.asked == []


# A contest that ends so that its named round (30 s later) is the recorded 10024141.
ROUND_AT = QUICKNET.round_time(ROUND_10024141.number)
ENDS_AT = ROUND_AT - timedelta(seconds=31)
PUBLISHED_AT = ENDS_AT - timedelta(days=1)


async def _closed_on_quicknet(relays: tuple[str, ...]) -> Contest:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(
        brand, now=PUBLISHED_AT, network=beacon.quicknet(relays=relays), prizes=1
    )
    # Its end is long past: the session's worker, if one runs, would close it at
    # today's date while people still enter. It ends in the future until the test has
    # closed it at its own end, the named round kept.
    await Contest.filter(id=contest.id).update(ends_at=utcnow() + timedelta(days=1))
    steps = await Step.filter(contest=contest)
    for number in range(4):
        person = await participant(name=f"P{number}")
        moment = PUBLISHED_AT + timedelta(hours=1, minutes=number)
        entry = await entries.enter(contest, person, consented=True, locale="es", now=moment)
        for step in steps if number else steps[:1]:
            await entries.record_completion(entry, step, moment, links=LINKS)
    assert await closing.close(contest.id, ENDS_AT + timedelta(seconds=1))
    await Contest.filter(id=contest.id).update(ends_at=ENDS_AT)
    return await Contest.get(id=contest.id)


async def test_the_draw_waits_for_its_round_then_runs_on_it(
    database_url: Any, settings: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The chain log is read a batch at a time: these four entries take two batches.
    monkeypatch.setattr(chainlog, "BATCH", 3)
    with relay() as (served, base):
        contest = await _closed_on_quicknet((base,))
        assert contest.beacon is not None and contest.beacon["round"] == ROUND_10024141.number
        fetching = _fetching(base)

        # The list is public, the round is not out yet: nothing is drawn.
        early = ENDS_AT + timedelta(seconds=5)
        assert await closing.run_draw(contest.id, early, links=LINKS, fetching=fetching) == []
        page = await client.get(f"/c/{contest.slug}/draw")
        assert 'data-testid="beacon-waiting"' in page.text and "10024141" in page.text
        listed = await client.get(f"/c/{contest.slug}/list.txt")
        record = await Draw.get(contest=contest)
        assert hashlib.sha256(listed.content).hexdigest() == record.list_digest

        # Due, but no relay has it yet: the draw still waits, and the page says so.
        late = ROUND_AT + timedelta(seconds=10)
        assert await closing.run_draw(contest.id, late, links=LINKS, fetching=fetching) == []
        page = await client.get(f"/c/{contest.slug}/draw")
        assert 'data-testid="beacon-late"' in page.text
        assert (await Contest.get(id=contest.id)).status is ContestStatus.CLOSED

        served.publish(ROUND_10024141)
        winners = await closing.run_draw(contest.id, late, links=LINKS, fetching=fetching)
    assert [w.rank for w in winners] == [1, 2]

    certificate = await published_certificate(contest)
    assert certificate["format"] == draw.FORMAT_V2
    assert certificate["beacon"]["round"] == ROUND_10024141.number
    assert certificate["beacon"]["signature"] == ROUND_10024141.signature
    assert certificate["steerable"] is False
    report = verify.verify(certificate)
    assert report.problems == [] and report.notices == []
    chain = (await client.get(f"/c/{contest.slug}/chain.txt")).text.splitlines()
    assert [line.split(" ")[3] for line in chain] == ["incomplete", "listed", "listed", "listed"]
    assert verify.verify_chain(chain, certificate) == []


async def test_without_any_relay_the_draw_never_runs(database_url: Any, settings: Any) -> None:
    contest = await _closed_on_quicknet((_nobody_listens(),))
    later = ROUND_AT + timedelta(days=1)
    unreachable = _fetching(_nobody_listens())
    for _ in range(2):
        assert await closing.run_draw(contest.id, later, links=LINKS, fetching=unreachable) == []
    record = await Draw.get(contest=contest)
    assert record.drawn_at is None and record.certificate is None
    assert "no relay gave a valid round" in record.beacon_problem


@pytest.mark.parametrize("route", ["move_end", "edit_contest"])
async def test_moving_the_end_moves_the_named_round_with_it(database_url: Any, route: str) -> None:
    """Through "Move the end" and through the contest form alike."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, network=QUICKNET)
    assert contest.beacon is not None
    first = contest.beacon["round"]
    assert QUICKNET.round_time(first) > contest.ends_at + timedelta(seconds=30)
    later = contest.ends_at + timedelta(days=1)
    if route == "move_end":
        await authoring.move_end(contest, later, actor="test", now=utcnow())
    else:
        draft = ContestDraft(
            title=contest.title,
            description=contest.description,
            starts_at=contest.starts_at,
            ends_at=later,
            alternates=contest.alternates,
        )
        await authoring.edit_contest(contest, draft, actor="test", now=utcnow())
    moved = await Contest.get(id=contest.id)
    assert moved.beacon is not None
    assert moved.beacon["round"] == first + 24 * 60 * 60 // beacon.QUICKNET_PERIOD
    assert QUICKNET.round_time(moved.beacon["round"]) > moved.ends_at


async def test_closing_early_names_a_sooner_round_still_in_the_future(database_url: Any) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, network=QUICKNET)
    now = utcnow()
    assert await closing.close(contest.id, now)
    closed = await Contest.get(id=contest.id)
    record = await Draw.get(contest=contest)
    assert closed.beacon is not None
    round_at = QUICKNET.round_time(closed.beacon["round"])
    assert record.frozen_at < round_at <= now + timedelta(seconds=30 + 3)
