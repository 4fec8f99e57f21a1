"""Review: a marketer reads why entries were flagged, clears one or, after confirming,
disqualifies it with a reason; the participant is told in their language, by email and
on the contest page, and a disqualified entry is not in the draw."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contests import brands, closing, entries, review, signals
from contests.clock import utcnow
from contests.errors import Conflict
from contests.models import (
    AuditLog,
    Brand,
    Contest,
    Entry,
    EntryStatus,
    MarketerRole,
    Outbox,
    Review,
    ReviewDecision,
)
from contests.signals import Reason
from tests.conftest import Mailbox, eventually
from tests.factories import (
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    email,
    entrant,
    frozen_list,
    live_contest,
    marketer_console,
    page_text,
    player,
)


def _review_path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}/review"


async def _flagged(contest: Contest, reason: Reason = Reason.DISPOSABLE_EMAIL, **kw: Any) -> Entry:
    entry = await entrant(contest, complete=True, **kw)
    await signals.flag(entry, reason, utcnow(), domain="mailinator.com")
    return entry


async def test_flagged_entries_are_listed_with_their_reasons_and_the_rest_are_not(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    flagged = await _flagged(contest)
    await signals.flag(flagged, Reason.SAME_DEVICE, utcnow(), at_least=2)
    honest = await entrant(contest)
    async with marketer_console(app, mailbox, address) as console:
        listing = await console.get(_review_path(brand, contest))
    assert listing.status_code == 200
    text = page_text(listing)
    assert flagged.public_id in text and honest.public_id not in text
    assert "disposable email address" in text and "same device as other entries" in text
    assert "1 entry waits for your decision." in text


async def test_disqualifying_asks_first_then_tells_the_participant_why_in_their_language(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    async with player(app, mailbox, contest, language="es") as fan:
        entry = await Entry.get(contest=contest).prefetch_related("participant")
        await signals.flag(entry, Reason.STEPS_IN_SECONDS, utcnow(), steps=2, seconds=3)
        async with marketer_console(app, mailbox, address) as console:
            confirm = f"{_review_path(brand, contest)}/{entry.id}/disqualify"
            asked = await console.get(confirm)
            assert asked.status_code == 200 and "This cannot be undone." in page_text(asked)
            # Looking at the confirmation changes nothing.
            assert (await Entry.get(id=entry.id)).status is EntryStatus.ACTIVE

            token = await csrf(console, confirm)
            no_reason = await console.post(confirm, data={"csrf_token": token, "reason": " "})
            assert no_reason.headers["location"] == confirm
            assert "Say why the entry is disqualified" in await after_redirect(console, no_reason)
            assert (await Entry.get(id=entry.id)).status is EntryStatus.ACTIVE

            done = await console.post(
                confirm,
                data={"csrf_token": token, "reason": "Los pasos se hicieron en 3 segundos."},
            )
            assert "the participant has been told why" in await after_redirect(console, done)

        stored = await Entry.get(id=entry.id)
        assert stored.status is EntryStatus.DISQUALIFIED
        decision = await Review.get(entry_id=entry.id)
        assert (
            decision.decision is ReviewDecision.DISQUALIFIED and decision.reviewer_name == "Marta"
        )
        logged = await AuditLog.get(action="entry.disqualified", brand=brand)
        assert logged.data["reason"] == "Los pasos se hicieron en 3 segundos."
        assert logged.data["reasons"] == ["steps_in_seconds"]

        assert entry.participant is not None and entry.participant.email
        to = entry.participant.email
        message = await eventually(
            lambda: _last([m for m in mailbox.to(to) if "fuera del sorteo" in str(m["Subject"])])
        )
        assert "Los pasos se hicieron en 3 segundos." in Mailbox.text(message)
        assert (await Outbox.get(kind="disqualified", to_email=to)).locale == "es"

        own = page_text(await fan.get(f"/c/{contest.slug}"))
        assert "Tu participación está fuera del sorteo" in own
        assert "Los pasos se hicieron en 3 segundos." in own

    mine = await entries.progress(stored)
    assert not mine.eligible
    await closing.close(contest.id, utcnow())
    assert stored.public_id not in [pseudonym for pseudonym, _ in await frozen_list(contest)]


async def _last(found: list[Any]) -> Any:
    return found[-1] if found else None


async def test_a_cleared_entry_leaves_the_queue_until_a_new_flag_arrives(database_url: str) -> None:
    brand, marketer = await brand_with_marketer()
    await marketer.fetch_related("brand")
    contest = await live_contest(brand)
    entry = await _flagged(contest)
    assert [f.entry.id for f in await review.waiting(contest.id)] == [entry.id]
    await review.clear(marketer, contest, entry.id, "A family computer.", now=utcnow())
    assert await review.waiting(contest.id) == []
    assert await review.waiting_count(contest.id) == 0
    assert (await Entry.get(id=entry.id)).status is EntryStatus.ACTIVE
    await signals.flag(entry, Reason.SAME_NETWORK, utcnow() + timedelta(seconds=1), at_least=5)
    again = await review.waiting(contest.id)
    assert [f.entry.id for f in again] == [entry.id]
    assert again[0].review is not None and again[0].review.decision is ReviewDecision.CLEARED
    assert await AuditLog.filter(action="entry.cleared", brand=brand).count() == 1


async def test_once_the_list_is_frozen_an_entry_can_no_longer_be_disqualified(
    database_url: str,
) -> None:
    from tests.factories import LINKS

    brand, marketer = await brand_with_marketer()
    await marketer.fetch_related("brand")
    contest = await live_contest(brand)
    entry = await _flagged(contest)
    await closing.close(contest.id, utcnow())
    with pytest.raises(Conflict) as refused:
        await review.disqualify(marketer, contest, entry.id, "Too late", now=utcnow(), links=LINKS)
    assert refused.value.code == "list_frozen"
    assert (await Entry.get(id=entry.id)).status is EntryStatus.ACTIVE
    assert not await Review.filter(entry_id=entry.id).exists()


async def test_the_queue_comes_a_page_at_a_time(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    flagged = [await _flagged(contest) for _ in range(5)]
    first = await review.waiting(contest.id, limit=3)
    rest = await review.waiting(contest.id, after=first[-1].entry.id, limit=3)
    assert [f.entry.id for f in first + rest] == [e.id for e in flagged]


async def test_a_viewer_reads_the_flags_but_decides_nothing_and_other_brands_see_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    reader = email("viewer")
    await brands.add_marketer(
        brand, reader, name="Vera", role=MarketerRole.VIEWER, actor="test", now=utcnow()
    )
    stranger_brand, stranger = await brand_and_marketer_address()
    contest = await live_contest(brand)
    entry = await _flagged(contest)
    entry_path = f"{_review_path(brand, contest)}/{entry.id}"
    async with marketer_console(app, mailbox, reader) as console:
        listing = await console.get(_review_path(brand, contest))
        assert listing.status_code == 200 and entry.public_id in listing.text
        assert "/clear" not in listing.text
        token = await csrf(console, _review_path(brand, contest))
        assert (await console.get(f"{entry_path}/disqualify")).status_code == 403
        for action in ("clear", "disqualify"):
            response = await console.post(
                f"{entry_path}/{action}", data={"csrf_token": token, "reason": "No"}
            )
            assert response.status_code == 403, action
    async with marketer_console(app, mailbox, stranger) as console:
        token = await csrf(console, f"/console/{stranger_brand.slug}")
        assert (await console.get(_review_path(brand, contest))).status_code == 404
        own_contest = await live_contest(stranger_brand)
        crossed = f"{_review_path(stranger_brand, own_contest)}/{entry.id}"
        assert (await console.get(f"{crossed}/disqualify")).status_code == 404
        response = await console.post(
            f"{crossed}/disqualify", data={"csrf_token": token, "reason": "No"}
        )
        assert "This entry is not flagged in this contest." in await after_redirect(
            console, response
        )
    assert (await Entry.get(id=entry.id)).status is EntryStatus.ACTIVE
    assert not await Review.filter(entry_id=entry.id).exists()
