"""The dashboard's running counts equal a count from scratch of the entries and
completions, after entries, completions typed in and judged in batches at the same
time, disqualifications, deleted accounts, a step no longer required and a change of
the contest's time zone."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from contests import accounts, authoring, dashboard, entries, review, signals
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.models import (
    Completion,
    Contest,
    Entry,
    Participant,
    Referral,
    ReferralStatus,
    Step,
)
from contests.queries import execute
from contests.referrals import Arrival
from contests.signals import Reason
from contests.steps.verdicts import verify_pending
from tests.factories import (
    LINKS,
    brand_with_marketer,
    entrant,
    live_contest,
    participant,
    unique,
)

PAGE = "https://shop.example.com/origins?ref=contest"


Counts = tuple[int, dict[date, int], list[int], list[tuple[str, int]], dict[str, int]]


async def _from_scratch(contest: Contest) -> Counts:
    """Entrants, entrants per local day, the funnel and the top referrers, counted from
    the rows."""
    contest = await Contest.get(id=contest.id)
    zone = ZoneInfo(contest.timezone)
    created: list[datetime] = [
        row["created_at"] for row in await Entry.filter(contest=contest).values("created_at")
    ]
    per_day: dict[date, int] = {}
    for moment in created:
        day = moment.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    steps = await Step.filter(contest=contest).order_by("position", "id")
    done: dict[int, set[int]] = {step.id: set() for step in steps}
    for entry_id, step_id in await Completion.filter(step__contest_id=contest.id).values_list(
        "entry_id", "step_id"
    ):
        done[int(step_id)].add(int(entry_id))
    required = [done[step.id] for step in steps if step.required]
    finished = len(set.intersection(*required)) if required else len(created)
    funnel = [len(created), *(len(done[step.id]) for step in steps), finished]
    credited: dict[int, int] = {}
    for referrer_id in await Referral.filter(
        contest=contest, status=ReferralStatus.CREDITED
    ).values_list("referrer_id", flat=True):
        credited[int(referrer_id)] = credited.get(int(referrer_id), 0) + 1  # type: ignore[call-overload]
    top = sorted(credited.items(), key=lambda item: (-item[1], item[0]))[:5]
    names = dict(
        await Entry.filter(id__in=[i for i, _ in top]).values_list(
            "id", "participant__display_name"
        )
    )
    leaders = [(str(names.get(i) or ""), count) for i, count in top]
    statuses: dict[str, int] = {}
    for status in await Referral.filter(contest=contest).values_list("status", flat=True):
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return len(created), per_day, funnel, leaders, statuses


async def _counted(contest: Contest) -> Counts:
    contest = await Contest.get(id=contest.id)
    figures = await dashboard.figures(contest, now=utcnow())
    return (
        figures.entered,
        {day: count for day, count in figures.per_day if count},
        [stage.count for stage in figures.funnel],
        [(leader.name, leader.referrals) for leader in figures.top_referrers],
        {str(status): count for status, count in figures.referrals.items()},
    )


async def _report_visits(contest: Contest, step: Step, chosen: list[Entry]) -> None:
    now = utcnow()
    for entry in chosen:
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


async def test_the_running_counts_equal_a_count_from_scratch(database_url: str) -> None:
    brand, marketer = await brand_with_marketer()
    contest = await live_contest(brand)
    visit, code = await Step.filter(contest=contest).order_by("position", "id")

    async def enter(through: Entry | None = None) -> Entry:
        # At a mail service anyone can join: two such addresses make no referral ring.
        name = unique("entrant")
        person = await participant(name=name, address=f"{name}@gmail.com")
        arrival = Arrival(code=through.referral_code) if through else None
        return await entries.enter(
            contest, person, consented=True, locale="es", now=utcnow(), arrival=arrival
        )

    first = list(await asyncio.gather(*(enter() for _ in range(12))))
    await _report_visits(contest, visit, first[:9])
    # Two workers judge the reported visits while codes are typed in and people enter,
    # some through the first two entrants' referral links.
    results = await asyncio.gather(
        verify_pending(links=LINKS, limit=4),
        verify_pending(links=LINKS, limit=4),
        *(entries.record_completion(e, code, utcnow(), links=LINKS) for e in first[3:10]),
        *(enter(through=first[0]) for _ in range(3)),
        *(enter(through=first[1]) for _ in range(2)),
    )
    await verify_pending(links=LINKS)
    later = [result for result in results if isinstance(result, Entry)]
    await _report_visits(contest, visit, later[:4])
    await verify_pending(links=LINKS)
    for entry in later[:3]:
        await entries.record_completion(entry, code, utcnow(), links=LINKS)
    # Counted twice, a completion adds nothing.
    assert not await entries.record_completion(first[3], code, utcnow(), links=LINKS)
    assert await _counted(contest) == await _from_scratch(contest)
    entered, _, funnel, leaders, statuses = await _counted(contest)
    assert entered == 17 and funnel == [17, 13, 10, 9]
    assert [count for _, count in leaders] == [3, 1]
    assert statuses == {"credited": 4, "pending": 1}

    # A disqualified entry stays counted, as before; a deleted account's steps do not.
    await signals.flag(first[4], Reason.DISPOSABLE_EMAIL, utcnow(), domain="mailinator.com")
    await review.disqualify(
        marketer, contest, first[4].id, "Fake address", now=utcnow(), links=LINKS
    )
    for entry in (first[5], later[0]):
        await accounts.delete(await Participant.get(entries__id=entry.id))
    assert await _counted(contest) == await _from_scratch(contest)
    assert (await _counted(contest))[2:] == (
        [17, 11, 8, 7],
        [(leaders[0][0], 2), leaders[1]],
        {"credited": 3, "pending": 1},
    )

    # The code step is no longer required: whoever did the visit has every required step.
    await Step.filter(id=code.id).update(required=False)
    assert await _counted(contest) == await _from_scratch(contest)
    assert (await _counted(contest))[2] == [17, 11, 8, 11]
    # A required step added: nobody has done it yet.
    await authoring.add_step(
        contest,
        StepDraft("code", "One more clue", "", settings={"code": "LATE-1"}),
        actor="test",
        now=utcnow(),
    )
    assert await _counted(contest) == await _from_scratch(contest)
    assert (await _counted(contest))[2] == [17, 11, 8, 0, 0]

    # An entry moved to another day, and another zone: the days follow.
    await Entry.filter(id=first[0].id).update(created_at=utcnow().replace(hour=1, minute=10))
    for zone in ("Pacific/Kiritimati", "Asia/Kathmandu", "America/Adak"):
        await Contest.filter(id=contest.id).update(timezone=zone)
        assert await _counted(contest) == await _from_scratch(contest)


async def test_a_contest_with_every_entry_done_counts_each_once(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    done = await asyncio.gather(*(entrant(contest, complete=True) for _ in range(6)))
    assert len(done) == 6
    assert await _counted(contest) == await _from_scratch(contest)
    assert (await _counted(contest))[2] == [6, 6, 6, 6]
