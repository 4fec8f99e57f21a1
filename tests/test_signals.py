"""Fraud signals: each one flags the entries it should, with its reason and what backs it,
on SQLite and PostgreSQL; none refuses or drops an entry."""

from __future__ import annotations

from datetime import datetime, timedelta

from contests import authoring, entries, signals
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.models import Contest, Entry, EntryStatus, FraudFlag, Step
from contests.signals import DEVICE_ENTRIES, NETWORK_ENTRIES, Origin, Reason, origin_of
from contests.steps import completion
from contests.steps.registry import kind_of
from contests.tokens import Tokens
from tests.conftest import SECRET
from tests.factories import LINKS, brand_with_marketer, live_contest, participant, step_of, unique

TOKENS = Tokens(SECRET)


async def _enter(
    contest: Contest,
    *,
    device: str | None = None,
    address: str | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> Entry:
    person = await participant(address=email or f"{unique('person')}@gmail.com")
    return await entries.enter(
        contest,
        person,
        consented=True,
        locale="es",
        now=now or utcnow(),
        origin=origin_of(TOKENS, device=device, address=address),
    )


async def _reasons(entry: Entry) -> set[str]:
    return {flag.reason for flag in await FraudFlag.filter(entry=entry)}


async def _contest() -> Contest:
    brand, _ = await brand_with_marketer()
    return await live_contest(brand)


def test_devices_and_networks_are_kept_as_keyed_hashes() -> None:
    origin = origin_of(TOKENS, device="browser-1", address="203.0.113.7")
    assert origin.device_hash and origin.network_hash
    assert "203.0.113.7" not in origin.network_hash and "browser-1" not in origin.device_hash
    # Another installation's key gives other hashes: nothing to match across databases.
    elsewhere = origin_of(Tokens("another-secret-" + "y" * 40), device="browser-1", address=None)
    assert elsewhere.device_hash != origin.device_hash and elsewhere.network_hash is None
    # An IPv6 household or phone changes addresses within its /64; another /64 is elsewhere.
    home = origin_of(TOKENS, device=None, address="2001:db8:1:2::10").network_hash
    assert home == origin_of(TOKENS, device=None, address="2001:db8:1:2:aaaa::1").network_hash
    assert home != origin_of(TOKENS, device=None, address="2001:db8:1:3::10").network_hash
    mapped = origin_of(TOKENS, device=None, address="::ffff:203.0.113.7").network_hash
    assert mapped == origin.network_hash
    assert origin_of(TOKENS, device=None, address="unknown") == Origin()


async def test_entries_from_one_device_are_flagged_together(database_url: str) -> None:
    contest = await _contest()
    first = await _enter(contest, device="shared-tablet")
    assert await _reasons(first) == set()
    others = [await _enter(contest, device="shared-tablet") for _ in range(DEVICE_ENTRIES - 1)]
    elsewhere = await _enter(contest, device="own-phone")
    for entry in (first, *others):
        assert Reason.SAME_DEVICE in await _reasons(entry)
    assert await _reasons(elsewhere) == set()
    flag = await FraudFlag.get(entry=first, reason=Reason.SAME_DEVICE)
    assert flag.details == {"at_least": DEVICE_ENTRIES}
    # Flagged, not dropped: every entry is still in the contest.
    assert {e.status for e in await Entry.filter(contest=contest)} == {EntryStatus.ACTIVE}


async def test_a_crowd_on_one_network_is_flagged_from_its_threshold(database_url: str) -> None:
    contest = await _contest()
    crowd = [await _enter(contest, address="198.51.100.20") for _ in range(NETWORK_ENTRIES - 1)]
    assert [await _reasons(entry) for entry in crowd] == [set()] * len(crowd)
    crowd.append(await _enter(contest, address="198.51.100.20"))
    crowd.append(await _enter(contest, address="198.51.100.20"))
    for entry in crowd:
        assert await _reasons(entry) == {Reason.SAME_NETWORK}
    assert await _reasons(await _enter(contest, address="198.51.100.21")) == set()
    # Another contest's entries from the same network are another crowd.
    assert await _reasons(await _enter(await _contest(), address="198.51.100.20")) == set()


async def test_a_disposable_email_address_is_flagged(database_url: str) -> None:
    contest = await _contest()
    throwaway = await _enter(contest, email=f"{unique('x')}@mailinator.com")
    assert await _reasons(throwaway) == {Reason.DISPOSABLE_EMAIL}
    flag = await FraudFlag.get(entry=throwaway)
    assert flag.details == {"domain": "mailinator.com"}
    assert await _reasons(await _enter(contest, email=f"{unique('y')}@gmail.com")) == set()
    assert signals.disposable_domain("ana@inbox.mailinator.com") == "mailinator.com"
    assert signals.disposable_domain("ana@cafe-aurora.example") is None


async def test_a_step_done_sooner_than_anyone_could_is_flagged(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, dwell_seconds=60)
    visit = await step_of(contest, "visit")
    entry = await _enter(contest)
    least = kind_of(visit).least_seconds(visit)
    assert least == 60
    await signals.completion_arrived(entry, visit, least, entry.created_at + timedelta(seconds=61))
    assert await _reasons(entry) == set()
    await signals.completion_arrived(entry, visit, least, entry.created_at + timedelta(seconds=20))
    flag = await FraudFlag.get(entry=entry)
    assert flag.reason == Reason.STEP_TOO_FAST
    assert flag.details == {"step": visit.public_id, "seconds": 20, "least_seconds": 60}


async def _with_share(contest: Contest) -> Step:
    return await authoring.add_step(
        contest, StepDraft(kind="share", title="Tell your friends"), actor="test", now=utcnow()
    )


async def test_steps_done_within_seconds_of_entering_are_flagged(database_url: str) -> None:
    contest = await _contest()
    share, code = await _with_share(contest), await step_of(contest, "code")
    start = utcnow()
    quick = await _enter(contest, now=start)
    assert await completion.submit(
        quick, code, {"code": "SECRET-42"}, start + timedelta(seconds=4), links=LINKS
    )
    assert await _reasons(quick) == set()
    assert await completion.submit(quick, share, {}, start + timedelta(seconds=9), links=LINKS)
    assert await _reasons(quick) == {Reason.STEPS_IN_SECONDS}
    assert (await FraudFlag.get(entry=quick)).details == {"steps": 2, "seconds": 9}

    # At a person's pace, the same steps are nothing to review.
    steady = await _enter(contest, now=start)
    later = start + timedelta(minutes=3)
    assert await completion.submit(steady, code, {"code": "SECRET-42"}, later, links=LINKS)
    assert await completion.submit(steady, share, {}, later + timedelta(minutes=1), links=LINKS)
    assert await _reasons(steady) == set()


async def test_a_flag_is_kept_once_per_reason_and_the_entry_stays_eligible(
    database_url: str,
) -> None:
    contest = await _contest()
    entry = await _enter(contest)
    for seconds in (1, 2):
        await signals.flag(entry, Reason.STEP_TOO_FAST, utcnow(), seconds=seconds)
    [flag] = await FraudFlag.filter(entry=entry)
    assert flag.details == {"seconds": 1}
    for step in await Step.filter(contest=contest):
        await entries.record_completion(entry, step, utcnow(), links=LINKS)
    assert (await entries.progress(entry)).eligible
    assert await signals.flags_by_entry(contest.id) == {entry.id: [Reason.STEP_TOO_FAST]}
