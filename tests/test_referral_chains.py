"""A chain of referrals, X referred R who referred Y, judged and typed in at once: a
worker's batch holding X and Y credits R when Y's visit is verified, while R's code,
typed in, credits X. Neither side may fail."""

from __future__ import annotations

import asyncio

from contests.clock import utcnow
from contests.models import Contest, Entry, Referral, ReferralStatus, Step
from contests.steps.completion import submit
from contests.steps.verdicts import verify_pending
from tests.factories import LINKS, brand_with_marketer, entrant, live_contest
from tests.test_tally_contention import _report_visit

CODE = "SECRET-42"
ROUNDS = 10
CHAINS = 4


async def _refer(contest: Contest, referrer: Entry, referred: Entry) -> None:
    await Referral.create(
        contest_id=contest.id,
        referrer=referrer,
        referred=referred,
        code=referrer.referral_code,
        status=ReferralStatus.PENDING,
        reason="",
        created_at=utcnow(),
    )


async def test_a_chain_of_referrals_judged_and_typed_in_at_once(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, code=CODE)
    visit, code = await Step.filter(contest=contest).order_by("position", "id")
    failures: list[str] = []
    for _ in range(ROUNDS):
        chains = [
            (await entrant(contest), await entrant(contest), await entrant(contest))
            for _ in range(CHAINS)
        ]
        for first, middle, last in chains:
            await _refer(contest, first, middle)
            await _refer(contest, middle, last)
            await _report_visit(first, visit)
            await _report_visit(last, visit)
        results = await asyncio.gather(
            *(
                submit(middle, code, {"code": CODE}, utcnow(), links=LINKS)
                for _, middle, _ in chains
            ),
            *(verify_pending(links=LINKS, limit=2) for _ in range(CHAINS)),
            return_exceptions=True,
        )
        failures.extend(repr(r) for r in results if isinstance(r, BaseException))
    assert not failures, f"{len(failures)} failed in {ROUNDS} rounds: {failures[:4]}"
    await verify_pending(links=LINKS)
    assert (
        await Referral.filter(contest=contest, status=ReferralStatus.CREDITED).count()
        == ROUNDS * CHAINS * 2
    )
