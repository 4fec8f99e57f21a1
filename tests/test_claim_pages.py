"""The winner's pages and the console's winners: what each person sees after the draw,
claiming through the signed link as the winner's own account, and disqualifying with a
confirmation, once however many times it is pressed."""

from __future__ import annotations

import re
from typing import Any

from contests import brands, claims, closing
from contests.clock import utcnow
from contests.models import (
    Brand,
    Contest,
    Entry,
    MarketerRole,
    Outbox,
    OutboxStatus,
    Participant,
    Winner,
    WinnerStatus,
)
from contests.tokens import Tokens
from tests.conftest import SECRET, Mailbox, eventually
from tests.factories import (
    LINKS,
    after_redirect,
    brand_with_marketer,
    browser,
    csrf,
    csrf_of,
    email,
    entrant,
    live_contest,
    marketer_console,
    page_text,
)


async def _drawn(people: int = 4) -> tuple[Brand, Contest, list[Winner]]:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    await Contest.filter(id=contest.id).update(alternates=2, timezone="America/Mexico_City")
    await claims.set_claim_form(
        contest, days=7, fields=["postal_address", "size"], actor="test", now=utcnow()
    )
    for number in range(people):
        await entrant(contest, name=f"Person {number}", locale="en", complete=True)
    await closing.close(contest.id, utcnow())
    await closing.run_draw(contest.id, utcnow(), links=LINKS)
    winners = (
        await Winner.filter(contest=contest)
        .select_related("entry__participant", "prize")
        .order_by("rank")
    )
    # Winners' mail goes out before anyone signs in: a sign-in link is the newest email.
    await claims.tell_due(utcnow(), links=LINKS, tokens=Tokens(SECRET))

    async def settled() -> bool:
        return not await Outbox.filter(
            to_email__in=[_address(w) for w in winners],
            status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
        ).exists()

    await eventually(settled, timeout=20)
    return brand, await Contest.get(id=contest.id), winners


def _address(winner: Winner) -> str:
    participant = winner.entry.participant
    assert participant is not None and participant.email
    return participant.email


# Anyone signed in, in their own browser, reading English.
_signed_in = marketer_console


def _claim_path(app: Any, winner: Winner) -> str:
    return "/claim/" + claims.claim_token(app.state.gymkana.tokens, winner)


async def test_after_the_draw_each_person_sees_where_they_stand(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    _, contest, (first, _, third) = await _drawn(people=4)
    outsider = await Participant.filter(entries__contest=contest, entries__wins=None).first()
    assert outsider is not None and outsider.email

    async with _signed_in(app, mailbox, _address(first)) as client:
        text = page_text(await client.get(f"/c/{contest.slug}"))
        assert "You won, Person" in text and "Claim it before" in text
        assert "Mexico" in text or "México" in text
        [claim_link] = re.findall(r'href="(/claim/[^"]+)"', text)
        assert (await client.get(claim_link)).status_code == 200
    async with _signed_in(app, mailbox, _address(third)) as client:
        text = page_text(await client.get(f"/c/{contest.slug}"))
        assert "You are alternate number 2" in text
    async with _signed_in(app, mailbox, outsider.email) as client:
        text = page_text(await client.get(f"/c/{contest.slug}"))
        assert "You did not win this time" in text


async def test_the_winner_claims_through_the_link_as_their_own_account(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    _, _, (first, second, _) = await _drawn(people=3)
    link = _claim_path(app, first)

    async with browser(app, language="en") as stranger:
        response = await stranger.get(link)
        assert response.status_code == 303 and "/login" in response.headers["location"]
    async with _signed_in(app, mailbox, _address(second)) as other:
        response = await other.get(link)
        assert response.status_code == 403
        assert "belongs to another account" in page_text(response)
        refused = await other.post(
            link,
            data={"csrf_token": csrf_of(response.text), "postal_address": "x", "size": "M"},
        )
        assert "belongs to another account" in await after_redirect(other, refused)
    async with browser(app, language="en") as stranger:
        assert (await stranger.get(link[:-3] + "abc")).status_code in (303, 422)

    async with _signed_in(app, mailbox, _address(first)) as winner:
        page = await winner.get(link)
        assert page.status_code == 200
        text = page_text(page)
        assert "Waiting for you to claim it" in text and "Claim it before" in text
        assert 'data-zone="America/Mexico_City"' in page.text
        token = csrf_of(page.text)
        missing = await winner.post(link, data={"csrf_token": token, "size": "M"})
        assert "Please fill in" in await after_redirect(winner, missing)
        done = await winner.post(
            link,
            data={"csrf_token": token, "postal_address": "Calle Mayor 1, Madrid", "size": "M"},
        )
        assert "your prize is claimed" in await after_redirect(winner, done)
        assert "Claimed on" in page_text(await winner.get(link))

    claimed = await Winner.get(id=first.id)
    assert claimed.status is WinnerStatus.CLAIMED
    assert claimed.claim_data == {"postal_address": "Calle Mayor 1, Madrid", "size": "M"}


async def test_the_console_shows_states_and_disqualifies_once_after_confirming(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, contest, (first, second, third) = await _drawn(people=3)
    await Participant.filter(email=_address(third)).update(email_verified=False)
    owner = await brands.add_marketer(
        brand, email("editor"), role=MarketerRole.EDITOR, actor="test", now=utcnow()
    )
    viewer = await brands.add_marketer(
        brand, email("viewer"), role=MarketerRole.VIEWER, actor="test", now=utcnow()
    )
    await claims.claim(
        first,
        first.entry.participant,  # type: ignore[arg-type]
        {"postal_address": "Calle Secreta 9", "size": "L"},
        now=utcnow(),
    )
    base = f"/console/{brand.slug}/contests/{contest.id}/winners"

    async with _signed_in(app, mailbox, viewer.email) as reader:
        text = page_text(await reader.get(base))
        assert "claimed" in text and "alternate, waiting" in text
        assert "Calle Secreta 9" not in text
        assert "no verified email" in text
        assert (await reader.get(f"{base}/2/disqualify")).status_code == 403

    await claims.disqualify(contest, 1, "Two accounts", actor="test", now=utcnow(), links=LINKS)
    async with _signed_in(app, mailbox, owner.email) as editor:
        assert "Calle Secreta 9" in page_text(await editor.get(base))
        confirm = await editor.get(f"{base}/2/disqualify")
        assert confirm.status_code == 200 and "Disqualify winner 2?" in page_text(confirm)
        # Asking for the confirmation changes nothing.
        assert (await Winner.get(id=second.id)).status is WinnerStatus.NOTIFIED
        token = csrf_of(confirm.text)
        for _ in range(2):
            response = await editor.post(
                f"{base}/2/disqualify", data={"csrf_token": token, "reason": "Fake address"}
            )
        assert "already out: nothing changed" in await after_redirect(editor, response)
        text = page_text(await editor.get(base))
        assert re.search(r"replaced\s*\(by 2\)", text) and re.search(r"replaced\s*\(by 3\)", text)

    states = [w.status for w in await Winner.filter(contest=contest).order_by("rank")]
    assert states == [
        WinnerStatus.DISQUALIFIED,
        WinnerStatus.DISQUALIFIED,
        WinnerStatus.NOTIFIED,
    ]


async def test_the_claim_form_is_set_in_the_console_before_the_draw(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, marketer = await brand_with_marketer()
    contest = await live_contest(brand)
    base = f"/console/{brand.slug}/contests/{contest.id}/winners"
    async with _signed_in(app, mailbox, marketer.email) as editor:
        token = await csrf(editor, base)
        saved = await editor.post(
            f"{base}/claim-form",
            data={"csrf_token": token, "claim_days": "10", "field_phone": "on"},
        )
        assert "what winners will be asked" in await after_redirect(editor, saved)
        refused = await editor.post(
            f"{base}/claim-form", data={"csrf_token": token, "claim_days": "400"}
        )
        assert refused.status_code == 303
        assert "from 1 to 90 days" in await after_redirect(editor, refused)
    fresh = await Contest.get(id=contest.id)
    assert fresh.claim_days == 10 and fresh.claim_fields == ["phone"]


async def test_the_console_says_when_there_are_fewer_people_than_prize_units(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, marketer = await brand_with_marketer()
    contest = await live_contest(brand, prizes=3)
    await entrant(contest, name="Only one", locale="en", complete=True)
    page = f"/console/{brand.slug}/contests/{contest.id}"
    async with _signed_in(app, mailbox, marketer.email) as editor:
        before = page_text(await editor.get(page))
        assert "So far 1 person has entered, for more prize units" in before
        await closing.close(contest.id, utcnow())
        await closing.run_draw(contest.id, utcnow(), links=LINKS)
        after = page_text(await editor.get(page + "/winners"))
        assert "2 prize units cannot be given" in after
        assert "1 prize unit awarded" in after


async def test_a_disqualified_winner_is_told_why_once_in_their_language(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, contest, (first, *_) = await _drawn(people=3)
    # They entered in Spanish: the email speaks it, whatever the marketer reads.
    await Entry.filter(id=first.entry.id).update(locale="es")
    owner = await brands.add_marketer(
        brand, email("owner"), role=MarketerRole.OWNER, actor="test", now=utcnow()
    )
    base = f"/console/{brand.slug}/contests/{contest.id}/winners"
    async with _signed_in(app, mailbox, owner.email) as console:
        token = csrf_of((await console.get(f"{base}/1/disqualify")).text)
        for _ in range(2):
            await console.post(
                f"{base}/1/disqualify",
                data={"csrf_token": token, "reason": "Dos cuentas con la misma dirección"},
            )

    address = _address(first)

    def withdrawn() -> list[Any]:
        return [m for m in mailbox.to(address) if "retirado" in str(m["Subject"])]

    async def arrived() -> list[Any]:
        return withdrawn()

    [message] = await eventually(arrived)
    body = Mailbox.text(message)
    assert "Dos cuentas con la misma dirección" in body and "descalificado" in body
    assert str(message["Reply-To"]) == brand.reply_to
    assert await Outbox.filter(kind="winner_disqualified", to_email=address).count() == 1

    async with _signed_in(app, mailbox, address) as client:
        text = page_text(await client.get(f"/c/{contest.slug}"))
    assert "Your entry was disqualified" in text
    assert "Dos cuentas con la misma dirección" in text
    assert "Your prize went to someone else" not in text
    assert len(withdrawn()) == 1
