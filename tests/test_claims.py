"""Winners, claims and alternates: the claim window, reminders, expiry and
disqualification hand prizes on, each once, and every prize unit is given or said."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contests import accounts, claims, closing
from contests.clock import utcnow
from contests.errors import Conflict, InvalidInput, NotAllowed
from contests.models import (
    AuditLog,
    Contest,
    Entry,
    Outbox,
    Participant,
    Winner,
    WinnerStatus,
)
from contests.tokens import Tokens
from tests.conftest import SECRET
from tests.factories import LINKS, brand_with_marketer, entrant, live_contest

TOKENS = Tokens(SECRET)


async def _drawn(
    *, prizes: int = 1, alternates: int = 2, people: int = 4, fields: list[str] | None = None
) -> tuple[Contest, list[Winner]]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, prizes=prizes)
    await Contest.filter(id=contest.id).update(alternates=alternates)
    await claims.set_claim_form(
        contest, days=7, fields=fields or ["postal_address", "phone"], actor="test", now=utcnow()
    )
    for number in range(people):
        await entrant(contest, name=f"Person {number}", locale="en", complete=True)
    await closing.close(contest.id, utcnow())
    await closing.run_draw(contest.id, utcnow(), links=LINKS)
    contest = await Contest.get(id=contest.id).select_related("brand")
    return contest, await _winners(contest)


async def _winners(contest: Contest) -> list[Winner]:
    return (
        await Winner.filter(contest=contest)
        .select_related("contest__brand", "entry__participant", "prize")
        .order_by("rank")
    )


async def _person(winner: Winner) -> Participant:
    participant = winner.entry.participant
    assert participant is not None
    return participant


async def _actions(contest: Contest) -> list[str]:
    return [
        a.action
        for a in await AuditLog.filter(target=contest.slug).order_by("id")
        if a.action.startswith("winner.") or a.action == "prize.unawarded"
    ]


async def test_each_winner_is_told_once_with_a_claim_link_and_a_deadline(
    database_url: Any,
) -> None:
    _contest, (first, *alternates) = await _drawn()
    assert first.status is WinnerStatus.NOTIFIED and first.prize is not None
    assert first.claim_deadline is not None
    assert timedelta(days=6, hours=23) < first.claim_deadline - utcnow() <= timedelta(days=7)
    assert all(a.status is WinnerStatus.SELECTED and a.prize is None for a in alternates)

    for _ in range(2):
        await claims.tell_due(utcnow(), links=LINKS, tokens=TOKENS)
    [message] = await Outbox.filter(dedupe_key=f"winner:{first.id}")
    assert message.to_email == (await _person(first)).email
    token = message.text_body.split("http://testserver/claim/")[1].split()[0]
    assert (await claims.winner_for_token(TOKENS, token)).id == first.id
    assert not await Outbox.filter(dedupe_key__in=[f"winner:{a.id}" for a in alternates])


async def test_a_winner_without_a_verified_address_is_told_on_the_site_only(
    database_url: Any,
) -> None:
    contest, (first, *_) = await _drawn()
    await Participant.filter(id=(await _person(first)).id).update(email_verified=False)
    await claims.tell_due(utcnow(), links=LINKS, tokens=TOKENS)
    told = await Winner.get(id=first.id)
    assert told.notified_at is not None and told.status is WinnerStatus.NOTIFIED
    assert not await Outbox.filter(dedupe_key=f"winner:{first.id}").exists()
    logged = await AuditLog.filter(action="winner.notified", target=contest.slug).first()
    assert logged is not None and logged.data["emailed"] is False


async def test_the_winner_claims_with_the_details_asked_for(database_url: Any) -> None:
    contest, (first, second, _) = await _drawn()
    details = {"postal_address": "Calle Mayor 1\n28013 Madrid", "phone": "+34 600 000 000"}

    with pytest.raises(NotAllowed):
        await claims.claim(first, await _person(second), details, now=utcnow())
    with pytest.raises(InvalidInput) as missing:
        await claims.claim(first, await _person(first), {"phone": "+34 600"}, now=utcnow())
    assert missing.value.code == "claim_field_missing"
    with pytest.raises(InvalidInput) as phone:
        await claims.claim(
            first, await _person(first), {**details, "phone": "call me"}, now=utcnow()
        )
    assert phone.value.code == "claim_phone_invalid"

    claimed = await claims.claim(first, await _person(first), details, now=utcnow())
    assert claimed.status is WinnerStatus.CLAIMED and claimed.claim_data == details
    with pytest.raises(Conflict):
        await claims.claim(first, await _person(first), details, now=utcnow())
    # Nothing the winner sent is in the log.
    logged = await AuditLog.filter(action="winner.claimed", target=contest.slug).first()
    assert logged is not None and "Madrid" not in str(logged.data)


async def test_past_the_deadline_the_prize_goes_to_the_next_alternate_who_is_told(
    database_url: Any,
) -> None:
    contest, (first, second, third) = await _drawn()
    later = utcnow() + timedelta(days=7, minutes=1)

    await claims.advance(later, links=LINKS, tokens=TOKENS)

    first, second, third = await _winners(contest)
    assert first.status is WinnerStatus.EXPIRED and first.replaced_by_rank == 2
    assert claims.state_of(first) == "replaced"
    assert second.status is WinnerStatus.NOTIFIED and second.prize_id == first.prize_id  # type: ignore[attr-defined]
    assert second.claim_deadline == later + timedelta(days=7)
    assert third.status is WinnerStatus.SELECTED
    [message] = await Outbox.filter(dedupe_key=f"winner:{second.id}")
    assert "has come to you" in message.subject
    with pytest.raises(Conflict):
        await claims.claim(first, await _person(first), {}, now=later)
    assert await _actions(contest) == [
        "winner.notified",
        "winner.expired",
        "winner.promoted",
        "winner.notified",
    ]


async def test_reminders_go_out_three_days_and_one_day_before_the_deadline(
    database_url: Any,
) -> None:
    contest, (first, *_) = await _drawn()
    assert first.claim_deadline is not None
    for moment in (
        first.claim_deadline - timedelta(days=4),
        first.claim_deadline - timedelta(days=3),
        first.claim_deadline - timedelta(days=2),
        first.claim_deadline - timedelta(hours=23),
        first.claim_deadline - timedelta(hours=1),
    ):
        await claims.advance(moment, links=LINKS, tokens=TOKENS)
    reminders = await Outbox.filter(dedupe_key__startswith=f"claim-reminder:{first.id}:")
    keys = sorted(message.dedupe_key for message in reminders)
    assert keys == [f"claim-reminder:{first.id}:0", f"claim-reminder:{first.id}:1"]
    reminded = await Winner.get(id=first.id)
    assert reminded.status is WinnerStatus.REMINDED and reminded.reminders == 2
    assert await _actions(contest) == ["winner.notified", "winner.reminded", "winner.reminded"]


async def test_disqualifying_twice_hands_the_prize_on_once(database_url: Any) -> None:
    contest, (first, second, third) = await _drawn()
    with pytest.raises(InvalidInput):
        await claims.disqualify(contest, 1, "  ", actor="marta", now=utcnow(), links=LINKS)

    assert await claims.disqualify(
        contest, 1, "Two accounts", actor="marta", now=utcnow(), links=LINKS
    )
    assert not await claims.disqualify(
        contest, 1, "Two accounts", actor="marta", now=utcnow(), links=LINKS
    )

    first, second, third = await _winners(contest)
    assert first.status is WinnerStatus.DISQUALIFIED and first.reason == "Two accounts"
    assert second.status is WinnerStatus.NOTIFIED and third.status is WinnerStatus.SELECTED
    assert await _actions(contest) == ["winner.disqualified", "winner.promoted"]


async def test_with_no_alternate_left_the_unawarded_prize_is_said(database_url: Any) -> None:
    contest, (_first, _second) = await _drawn(alternates=1, people=2)
    assert await claims.disqualify(
        contest, 2, "Asked to leave", actor="marta", now=utcnow(), links=LINKS
    )
    assert await claims.disqualify(
        contest, 1, "Fake address", actor="marta", now=utcnow(), links=LINKS
    )
    short = await claims.shortfall(contest)
    assert (short.units, short.awarded, short.alternates_left, short.short) == (1, 0, 0, 1)
    assert await _actions(contest) == [
        "winner.disqualified",
        "winner.disqualified",
        "prize.unawarded",
    ]


async def test_fewer_people_than_prize_units_is_said_before_and_after_the_draw(
    database_url: Any,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, prizes=3)
    for number in range(2):
        await entrant(contest, name=f"Person {number}", complete=True)
    before = await claims.shortfall(await Contest.get(id=contest.id))
    assert (before.units, before.candidates, before.listed_only, before.short) == (3, 2, False, 1)

    await closing.close(contest.id, utcnow())
    await closing.run_draw(contest.id, utcnow(), links=LINKS)
    after = await claims.shortfall(contest)
    assert (after.units, after.awarded, after.short) == (3, 2, 1)
    drawn = await AuditLog.filter(action="contest.drawn", target=contest.slug).first()
    assert drawn is not None and drawn.data["unawarded"] == 1


async def test_the_claim_form_is_fixed_once_winners_are_drawn(database_url: Any) -> None:
    contest, _ = await _drawn()
    with pytest.raises(Conflict):
        await claims.set_claim_form(contest, days=3, fields=[], actor="test", now=utcnow())
    with pytest.raises(InvalidInput):
        await claims.set_claim_form(contest, days=0, fields=[], actor="test", now=utcnow())


async def test_claim_details_are_exported_and_deleted_with_the_account(
    database_url: Any,
) -> None:
    _contest, (first, *_) = await _drawn()
    person = await _person(first)
    details = {"postal_address": "Calle Mayor 1", "phone": "600 000 000"}
    await claims.claim(first, person, details, now=utcnow())

    exported = await accounts.export(person, now=utcnow())
    [win] = [w for e in exported["entries"] for w in e["wins"]]
    assert win["claim_details"] == details and win["claimed_at"]

    await accounts.delete(person)
    kept = await Winner.get(id=first.id)
    assert kept.claim_data == {} and await Entry.filter(id=first.entry.id).exists()
