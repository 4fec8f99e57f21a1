"""Referrals, through the real services: who counts, who does not and why, the points,
the limit and the leaderboard, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from contests import accounts, authoring, entries, referrals
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.errors import InvalidInput
from contests.models import (
    Completion,
    Contest,
    Entry,
    EntryStatus,
    FraudFlag,
    Participant,
    Referral,
    ReferralStatus,
    Step,
)
from contests.referrals import Arrival, Refusal
from contests.signals import Origin, Reason, origin_of
from contests.steps import completion
from contests.tokens import Tokens
from oauth import identities
from tests.conftest import SECRET
from tests.factories import LINKS, brand_with_marketer, live_contest, participant, step_of, unique
from tests.support.queries import counting_queries

TOKENS = Tokens(SECRET)
CODE = "SECRET-42"


async def _contest(*, points: int = 2, limit: int = 2) -> tuple[Contest, Step]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    step = await authoring.add_step(
        contest,
        StepDraft(
            kind="referral",
            title="Bring your friends",
            points=points,
            required=False,
            settings={"max_referrals": str(limit)},
        ),
        actor="test",
        now=utcnow(),
    )
    return contest, step


async def _person(email: str | None = None, *, name: str = "") -> Participant:
    return await participant(address=email or f"{unique('person')}@gmail.com", name=name)


async def _enter(
    contest: Contest,
    person: Participant | None = None,
    *,
    arrival: Arrival | None = None,
    device: str | None = None,
) -> Entry:
    return await entries.enter(
        contest,
        person or await _person(),
        consented=True,
        locale="es",
        now=utcnow(),
        origin=origin_of(TOKENS, device=device, address=None) if device else Origin(),
        arrival=arrival,
    )


async def _find_the_code(contest: Contest, entry: Entry) -> None:
    assert await completion.submit(
        entry, await step_of(contest, "code"), {"code": CODE}, utcnow(), links=LINKS
    )


async def _points(entry: Entry, step: Step) -> int | None:
    done = await Completion.filter(entry=entry, step=step).first()
    return done.points if done else None


async def _referral_of(entry: Entry) -> Referral:
    return await Referral.get(referred=entry)


async def test_a_friend_counts_once_they_do_a_step_and_up_to_the_limit(database_url: str) -> None:
    contest, step = await _contest(points=2, limit=2)
    referrer = await _enter(contest)
    friend = await _enter(contest, arrival=Arrival(referrer.referral_code))
    assert (await _referral_of(friend)).status is ReferralStatus.PENDING
    assert await _points(referrer, step) is None

    await _find_the_code(contest, friend)
    credited = await _referral_of(friend)
    assert credited.status is ReferralStatus.CREDITED and credited.credited_at is not None
    assert credited.referrer_id == referrer.id  # type: ignore[attr-defined]
    assert await _points(referrer, step) == 2

    for _ in range(2):
        another = await _enter(contest, arrival=Arrival(referrer.referral_code))
        await _find_the_code(contest, another)
    # Three friends count, the step gives points for two: its limit.
    assert await referrals.credited_count(referrer) == 3
    assert await _points(referrer, step) == 4
    progress = await entries.progress(referrer)
    assert progress.points == 4


async def test_a_share_alone_credits_no_one(database_url: str) -> None:
    contest, step = await _contest()
    share = await authoring.add_step(
        contest, StepDraft(kind="share", title="Share"), actor="test", now=utcnow()
    )
    referrer = await _enter(contest)
    friend = await _enter(contest, arrival=Arrival(referrer.referral_code))
    assert await completion.submit(friend, share, {}, utcnow(), links=LINKS)
    assert (await _referral_of(friend)).status is ReferralStatus.PENDING
    assert await _points(referrer, step) is None


async def test_a_locked_referral_step_gets_its_points_once_revealed(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    code = await step_of(contest, "code")
    step = await authoring.add_step(
        contest,
        StepDraft(kind="referral", title="Friends", points=3, unlocks_after=code.id),
        actor="test",
        now=utcnow(),
    )
    referrer = await _enter(contest)
    friend = await _enter(contest, arrival=Arrival(referrer.referral_code))
    await _find_the_code(contest, friend)
    assert (await _referral_of(friend)).status is ReferralStatus.CREDITED
    assert await _points(referrer, step) is None
    # Doing the step it is revealed after brings the points the friends earned meanwhile.
    await _find_the_code(contest, referrer)
    assert await _points(referrer, step) == 3


async def test_a_referral_step_is_not_done_from_the_contest_page(database_url: str) -> None:
    contest, step = await _contest()
    entry = await _enter(contest)
    with pytest.raises(InvalidInput) as refused:
        await completion.submit(entry, step, {}, utcnow(), links=LINKS)
    assert refused.value.code == "not_submitted"
    assert not await Completion.filter(entry=entry).exists()


async def _refused(friend: Entry, reason: Refusal, referrer: Entry | None, step: Step) -> None:
    """Refused with its reason, and nothing credited even once the friend does a step."""
    referral = await _referral_of(friend)
    assert (referral.status, referral.reason) == (ReferralStatus.REFUSED, reason)
    contest = await Contest.get(id=friend.contest_id)  # type: ignore[attr-defined]
    await _find_the_code(contest, friend)
    assert (await _referral_of(friend)).status is ReferralStatus.REFUSED
    if referrer is not None:
        assert await _points(referrer, step) is None
        assert await referrals.credited_count(referrer) == 0
    # The friend's own entry and step are untouched by the refusal.
    assert await Completion.filter(entry=friend).count() == 1
    assert (await Entry.get(id=friend.id)).status is EntryStatus.ACTIVE


async def test_referring_oneself_with_a_second_account_does_not_count(database_url: str) -> None:
    contest, step = await _contest()
    address = f"{unique('ana')}@gmail.com"
    referrer = await _enter(contest, await _person(address))
    # The same person signing in with another provider gets another account, unmerged.
    local, domain = address.split("@")
    second = await identities.sign_in(
        identities.Profile(
            provider="github",
            subject=unique("gh"),
            email=f"{local.upper()}+contest@{domain}",
            email_verified=True,
        ),
        locale="es",
        now=utcnow(),
    )
    assert second.id != (await Participant.get(email=address)).id
    friend = await _enter(contest, second, arrival=Arrival(referrer.referral_code))
    await _refused(friend, Refusal.SELF_REFERRAL, referrer, step)
    for entry in (referrer, friend):
        assert await FraudFlag.filter(entry=entry, reason=Reason.SELF_REFERRAL).exists()
    assert referrals.same_address("ana.lopez@gmail.com", "Analopez+x@googlemail.com")
    assert not referrals.same_address("ana.lopez@cafe.example", "analopez@cafe.example")
    assert not referrals.same_address(None, None)


async def test_a_referral_from_the_same_device_does_not_count(database_url: str) -> None:
    contest, step = await _contest()
    referrer = await _enter(contest, device="family-laptop")
    friend = await _enter(contest, arrival=Arrival(referrer.referral_code), device="family-laptop")
    await _refused(friend, Refusal.SAME_DEVICE, referrer, step)
    for entry in (referrer, friend):
        assert await FraudFlag.filter(entry=entry, reason=Reason.SAME_DEVICE).exists()


async def test_addresses_at_one_private_domain_are_a_ring(database_url: str) -> None:
    contest, step = await _contest()
    referrer = await _enter(contest, await _person(f"{unique('a')}@cafe-aurora.example"))
    friend = await _enter(
        contest,
        await _person(f"{unique('b')}@cafe-aurora.example"),
        arrival=Arrival(referrer.referral_code),
    )
    await _refused(friend, Refusal.DOMAIN_RING, referrer, step)
    flag = await FraudFlag.get(entry=referrer, reason=Reason.REFERRAL_RING)
    assert flag.details == {"domain": "cafe-aurora.example"}
    # Two friends who both use a webmail are not a ring.
    assert referrals.shared_private_domain("a@gmail.com", "b@gmail.com") is None
    assert referrals.shared_private_domain("a@mailinator.com", "b@mailinator.com")


async def test_taking_turns_to_refer_each_other_is_a_ring(database_url: str) -> None:
    ana, bea = await _person(), await _person()
    first, _ = await _contest()
    ana_entry = await _enter(first, ana)
    bea_entry = await _enter(first, bea, arrival=Arrival(ana_entry.referral_code))
    await _find_the_code(first, bea_entry)
    assert (await _referral_of(bea_entry)).status is ReferralStatus.CREDITED

    second, step = await _contest()
    bea_again = await _enter(second, bea)
    ana_again = await _enter(second, ana, arrival=Arrival(bea_again.referral_code))
    await _refused(ana_again, Refusal.MUTUAL_REFERRAL, bea_again, step)
    flag = await FraudFlag.get(entry=bea_again, reason=Reason.REFERRAL_RING)
    assert flag.details == {"mutual": True}


async def test_unknown_foreign_and_tampered_codes_credit_nothing(database_url: str) -> None:
    contest, step = await _contest()
    referrer = await _enter(contest)
    elsewhere = await _enter((await _contest())[0])
    altered = referrer.referral_code[:-1] + ("A" if referrer.referral_code[-1] != "A" else "B")
    for arrival, reason in (
        (Arrival(altered), Refusal.UNKNOWN_CODE),
        (Arrival(""), Refusal.UNKNOWN_CODE),
        (Arrival(elsewhere.referral_code), Refusal.FOREIGN_CODE),
        (referrals.arrival_for(TOKENS, "not-a-signed-cookie", contest.slug), Refusal.TAMPERED),
    ):
        friend = await _enter(contest, arrival=arrival)
        await _refused(friend, reason, None, step)
        assert (await _referral_of(friend)).referrer_id is None  # type: ignore[attr-defined]
    assert await referrals.credited_count(referrer) == 0
    assert await referrals.credited_count(elsewhere) == 0


async def test_a_disqualified_referrer_is_credited_nothing(database_url: str) -> None:
    contest, step = await _contest()
    referrer = await _enter(contest)
    friend = await _enter(contest, arrival=Arrival(referrer.referral_code))
    await Entry.filter(id=referrer.id).update(status=EntryStatus.DISQUALIFIED)
    await _find_the_code(contest, friend)
    referral = await _referral_of(friend)
    assert (referral.status, referral.reason) == (ReferralStatus.REFUSED, Refusal.REFERRER_OUT)
    assert await _points(referrer, step) is None


async def test_the_referral_code_tells_nothing_of_the_entry(database_url: str) -> None:
    contest, _ = await _contest()
    codes = set()
    for _ in range(5):
        entry = await _enter(contest)
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,32}", entry.referral_code)
        assert entry.referral_code != entry.public_id
        assert entry.public_id not in entry.referral_code and str(entry.id) != entry.referral_code
        codes.add(entry.referral_code)
    assert len(codes) == 5


def test_the_arrival_cookie_keeps_a_few_contests_and_only_codes() -> None:
    cookie = None
    for number in range(8):
        cookie = referrals.remember_arrival(TOKENS, cookie, f"contest-{number}", "A" * 16)
    assert referrals.arrival_for(TOKENS, cookie, "contest-7") == Arrival("A" * 16)
    assert referrals.arrival_for(TOKENS, cookie, "contest-0") is None
    long = referrals.remember_arrival(TOKENS, cookie, "contest-7", "x" * 60_000)
    assert len(long) < 1000
    assert referrals.arrival_for(TOKENS, long, "contest-7") == Arrival("")
    assert referrals.arrival_for(TOKENS, long[:-3] + "abc", "contest-7") == Arrival(
        "", Refusal.TAMPERED
    )
    assert referrals.arrival_for(TOKENS, None, "contest-7") is None


async def test_the_leaderboard_ranks_referrers_from_their_kept_counts(database_url: str) -> None:
    contest, _ = await _contest()
    names = ["Ana", "Bea", "Carla"]
    leaders = [await _enter(contest, await _person(name=name)) for name in names]
    for referrer, friends in zip(leaders, (1, 3, 2), strict=True):
        for _ in range(friends):
            friend = await _enter(contest, arrival=Arrival(referrer.referral_code))
            await _find_the_code(contest, friend)
    # A pending referral is not counted yet.
    await _enter(contest, arrival=Arrival(leaders[0].referral_code))
    with counting_queries() as log:
        board = await referrals.leaderboard(contest)
    # The first rows of the referrers' kept counts, then the names of the few at the top.
    assert log.count == 2
    [top, lookup] = log.statements
    assert '"referrer_tally"' in top and '"referral"' not in top and '"entry"' not in top
    assert '"entry"' in lookup and "GROUP BY" not in lookup
    assert [(leader.name, leader.referrals) for leader in board] == [
        ("Bea", 3),
        ("Carla", 2),
        ("Ana", 1),
    ]
    assert await referrals.leaderboard(await _contest_without_referrals()) == []


async def _contest_without_referrals() -> Contest:
    brand, _ = await brand_with_marketer()
    return await live_contest(brand)


async def test_export_and_deletion_cover_referrals_flags_and_hashes(database_url: str) -> None:
    contest, _ = await _contest()
    ana = await _person(f"{unique('ana')}@mailinator.com")
    ana_entry = await _enter(contest, ana, device="ana-phone")
    friend = await _enter(contest, arrival=Arrival(ana_entry.referral_code))
    await _find_the_code(contest, friend)
    brought_by = await _enter(await _contest_without_referrals(), ana, arrival=Arrival("Z" * 16))

    exported = await accounts.export(ana, now=utcnow())
    assert exported["format"] == "gymkana-account/4"
    rows = {row["pseudonymous_id"]: row for row in exported["entries"]}
    mine = rows[ana_entry.public_id]
    assert mine["referral_code"] == ana_entry.referral_code
    assert mine["device_hash"] == ana_entry.device_hash and mine["device_hash"]
    assert [r["status"] for r in mine["referrals"]] == ["credited"]
    assert mine["came_through_referral"] is None
    assert [f["reason"] for f in mine["review_flags"]] == [Reason.DISPOSABLE_EMAIL]
    came = rows[brought_by.public_id]["came_through_referral"]
    assert (came["status"], came["reason"]) == ("refused", Refusal.UNKNOWN_CODE)
    # Nothing about the friend is in Ana's export but how the referral went.
    assert friend.public_id not in str(exported)

    await accounts.delete(ana)
    assert not await Referral.filter(referrer=ana_entry).exists()
    assert not await Referral.filter(referred=brought_by).exists()
    assert not await FraudFlag.filter(entry_id__in=[ana_entry.id, brought_by.id]).exists()
    kept = await Entry.get(id=ana_entry.id)
    assert kept.device_hash is None and kept.network_hash is None
    assert kept.referral_code != ana_entry.referral_code
    # The friend's own entry and step are theirs, and stay.
    assert await Completion.filter(entry=friend).count() == 1
