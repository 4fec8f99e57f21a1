"""Participants completing steps that credit referrals, while workers judge batches of
visits to the same contest, all at once on separate connections: nobody fails and the
running counts still equal a count from scratch.

A participant's code, typed in, credits whoever referred them, and the referral step
it completes for the referrer is a second statement in the same transaction; a
worker's batch moves the same "every required step done" counters in one statement.
Pairs are chosen so that the participant's first counter comes after the referrer's
in the counters' order: taken as written, the two orders cross. Accounts deleted
meanwhile take their completions' counters, then their referrals'.

Whether two transactions meet half-way is up to timing; with counters taken as each
statement ran, a few of every ten rounds deadlocked. Correct, the test passes whatever
the timing."""

from __future__ import annotations

import asyncio
import json

from contests import accounts
from contests.clock import utcnow
from contests.models import Contest, Entry, Participant, Referral, ReferralStatus, Step
from contests.queries import execute
from contests.steps.completion import submit
from contests.steps.verdicts import verify_pending
from contests.tallies import SHARDS
from tests.factories import LINKS, added_step, brand_with_marketer, entrant, live_contest
from tests.test_tallies import _counted, _from_scratch

CODE = "SECRET-42"
PAGE = "https://shop.example.com/origins?ref=contest"
ROUNDS = 10
PAIRS = 8
WORKERS = 3
BATCH = 4


async def _done(entry: Entry, *steps: Step) -> None:
    for step in steps:
        await execute(
            "INSERT INTO completion (entry_id, step_id, points, completed_at) VALUES (?, ?, ?, ?)",
            [entry.id, step.id, step.points, utcnow()],
        )


async def _report_visit(entry: Entry, step: Step) -> None:
    now = utcnow()
    await execute(
        "INSERT INTO evidence (nonce, entry_id, step_id, reported_at, data, status, reason) "
        "VALUES (?, ?, ?, ?, ?, 'pending', '')",
        [
            entry.public_id,
            entry.id,
            step.id,
            now,
            json.dumps({"started_at": now.isoformat(), "page_url": PAGE}),
        ],
    )


async def _worker() -> None:
    # Small batches, one after another, for as long as visits wait: some of them meet
    # the participants half-way through their transactions.
    while (await verify_pending(links=LINKS, limit=BATCH)).judged:
        pass


async def _round(
    contest: Contest, visit: Step, code: Step, referral: Step, *, deletions: bool
) -> list[str]:
    # Sixteen consecutive entries have one shard each: each even shard refers the next.
    pair = sorted(
        [await entrant(contest) for _ in range(SHARDS)], key=lambda entry: entry.id % SHARDS
    )
    referrers, referred = pair[0::2], pair[1::2]
    batch = [await entrant(contest) for _ in range(SHARDS * 3)]
    for referrer, friend in zip(referrers, referred, strict=True):
        # The referrer lacks only the referral step; the friend only the code.
        await _done(referrer, visit, code)
        await _done(friend, visit, referral)
        await Referral.create(
            contest_id=contest.id,
            referrer=referrer,
            referred=friend,
            code=referrer.referral_code,
            status=ReferralStatus.PENDING,
            reason="",
            created_at=utcnow(),
        )
    leaving = [await entrant(contest) for _ in range(PAIRS if deletions else 0)]
    for referrer, person in zip(referrers, leaving, strict=False):
        # Done with every step, and counted for their referrer: all of it goes.
        await _done(person, visit, code, referral)
        await Referral.create(
            contest_id=contest.id,
            referrer=referrer,
            referred=person,
            code=referrer.referral_code,
            status=ReferralStatus.CREDITED,
            reason="",
            created_at=utcnow(),
            credited_at=utcnow(),
        )
    for entry in batch:
        # The batch's entries lack only the visit, which a worker judges.
        await _done(entry, code, referral)
        await _report_visit(entry, visit)
    people = [await Participant.get(entries__id=person.id) for person in leaving]
    results = await asyncio.gather(
        *(submit(friend, code, {"code": CODE}, utcnow(), links=LINKS) for friend in referred),
        *(_worker() for _ in range(WORKERS)),
        *(accounts.delete(person) for person in people),
        return_exceptions=True,
    )
    typed, judged = results[:PAIRS], results[PAIRS : PAIRS + WORKERS]
    deleted = results[PAIRS + WORKERS :]
    return [
        *(f"participant: {r!r}" for r in typed if r is not True),
        *(f"worker: {r!r}" for r in judged if isinstance(r, BaseException)),
        *(f"account deletion: {r!r}" for r in deleted if isinstance(r, BaseException)),
    ]


async def _race(*, deletions: bool) -> tuple[Contest, list[str]]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, code=CODE)
    visit, code = await Step.filter(contest=contest).order_by("position", "id")
    referral = await added_step(contest, "referral", {"max_referrals": "10"}, points=1)
    failures: list[str] = []
    for _ in range(ROUNDS):
        failures.extend(await _round(contest, visit, code, referral, deletions=deletions))
    await verify_pending(links=LINKS)
    return contest, failures


async def test_participants_and_worker_batches_never_wait_for_each_other_in_a_circle(
    database_url: str,
) -> None:
    contest, failures = await _race(deletions=False)
    assert not failures, f"{len(failures)} failed in {ROUNDS} rounds: {failures[:4]}"
    assert await _counted(contest) == await _from_scratch(contest)
    # Every referred friend finished, and so did every referrer, and every batch entry.
    entered = ROUNDS * SHARDS * 4
    assert (await _counted(contest))[2] == [entered] * 5
    assert (await _counted(contest))[4] == {"credited": ROUNDS * PAIRS}


async def test_accounts_deleted_meanwhile_never_wait_in_a_circle_either(
    database_url: str,
) -> None:
    contest, failures = await _race(deletions=True)
    assert not failures, f"{len(failures)} failed in {ROUNDS} rounds: {failures[:4]}"
    assert await _counted(contest) == await _from_scratch(contest)
    # The deleted accounts' entries stay, with none of their steps or referrals.
    entered = ROUNDS * (SHARDS * 4 + PAIRS)
    assert (await _counted(contest))[2] == [entered, *[entered - ROUNDS * PAIRS] * 4]
    assert (await _counted(contest))[4] == {"credited": ROUNDS * PAIRS}
