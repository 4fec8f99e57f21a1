"""The direct channel: a participant writes to the brand from a contest page or their
account; the console's inbox shows conversations unread first, assigned, searchable; a
marketer answers by name, by email in the participant's language and on their pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from contests import accounts, brands, conversations
from contests.clock import utcnow
from contests.conversations import InboxCursor
from contests.errors import InvalidInput
from contests.models import (
    AuditLog,
    Contest,
    Conversation,
    ConversationMessage,
    MarketerRole,
    Outbox,
    Participant,
)
from tests.conftest import Mailbox, eventually
from tests.factories import (
    LINKS,
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    email,
    live_contest,
    marketer_console,
    page_text,
    participant,
    player,
)


async def _write(client: httpx.AsyncClient, contest: Contest, words: str) -> httpx.Response:
    token = await csrf(client, f"/c/{contest.slug}")
    return await client.post(
        f"/c/{contest.slug}/messages", data={"csrf_token": token, "message": words}
    )


async def _me(contest: Contest) -> Participant:
    return await Participant.get(entries__contest_id=contest.id)


async def test_a_participant_writes_from_the_contest_page_and_the_brand_answers_by_name(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    async with player(app, mailbox, contest, language="es") as fan:
        sent = await _write(fan, contest, "¿Abrís el domingo?\nQuería ir con mi madre.")
        assert sent.headers["location"] == f"/c/{contest.slug}#write-{brand.slug}-feedback"
        assert "te responderá aquí y por correo" in await after_redirect(fan, sent)
        me = await _me(contest)
        talk = await Conversation.get(brand=brand, participant=me)
        assert talk.unread and talk.contest_id == contest.id  # type: ignore[attr-defined]

        async with marketer_console(app, mailbox, address) as console:
            inbox = page_text(await console.get(f"/console/{brand.slug}/inbox"))
            assert "1 conversation waits for you." in inbox and "¿Abrís el domingo?" in inbox
            here = f"/console/{brand.slug}/inbox/{talk.id}"
            opened = page_text(await console.get(here))
            assert "Quería ir con mi madre." in opened
            # Reading changes nothing: only answering or marking it does.
            assert (await Conversation.get(id=talk.id)).unread
            answered = await console.post(
                f"{here}/answer",
                data={"csrf_token": await csrf(console, here), "message": "¡Sí, de 10 a 14!"},
            )
            assert "signed “Marta”" in await after_redirect(console, answered)
        assert not (await Conversation.get(id=talk.id)).unread

        assert me.email
        to = me.email
        message = await eventually(
            lambda: _last(
                [m for m in mailbox.to(to) if "ha respondido a tu mensaje" in str(m["Subject"])]
            )
        )
        body = Mailbox.text(message)
        assert "Marta" in str(message["Subject"]) and "¡Sí, de 10 a 14!" in body
        assert "¿Abrís el domingo?" in body and "http://testserver/me" in body
        assert str(message["Reply-To"]) == brand.reply_to

        on_contest = page_text(await fan.get(f"/c/{contest.slug}"))
        on_account = page_text(await fan.get("/me"))
        for text in (on_contest, on_account):
            assert "¡Sí, de 10 a 14!" in text and "Marta, de " in text
    logged = await AuditLog.get(action="conversation.answered", brand=brand)
    assert logged.target == talk.public_id


async def _last(found: list[Any]) -> Any:
    return found[-1] if found else None


async def test_a_participant_writes_again_from_their_account_only_to_brands_they_know(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    stranger, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with player(app, mailbox, contest) as fan:
        account = await fan.get("/me")
        assert f'action="/me/brands/{brand.slug}/messages"' in account.text
        assert stranger.slug not in account.text
        token = await csrf(fan, "/me")
        sent = await fan.post(
            f"/me/brands/{brand.slug}/messages", data={"csrf_token": token, "message": "Hello!"}
        )
        assert sent.headers["location"] == f"/me#write-{brand.slug}-feedback"
        refused = await fan.post(
            f"/me/brands/{stranger.slug}/messages", data={"csrf_token": token, "message": "Hi"}
        )
        assert refused.status_code == 404
    assert await ConversationMessage.filter(conversation__brand=brand).count() == 1
    assert not await Conversation.filter(brand=stranger).exists()


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("   ", "Write your message."),
        ("<b>Hi</b>", "without HTML tags"),
        ("x" * 2001, "at most 2000 characters"),
    ],
)
async def test_a_message_that_cannot_be_kept_is_explained_and_nothing_is_kept(
    app: Any, worker: Any, mailbox: Mailbox, words: str, said: str
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with player(app, mailbox, contest) as fan:
        response = await _write(fan, contest, words)
        assert response.headers["location"] == f"/c/{contest.slug}#write-{brand.slug}-feedback"
        shown = await after_redirect(fan, response)
        block = re.search(r'id="write-[^"]+".*?</section>', shown, re.S)
        assert block and said in block.group(0)
    assert not await Conversation.filter(brand=brand).exists()


async def test_writing_is_rate_limited(app: Any, worker: Any, mailbox: Mailbox) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with player(app, mailbox, contest) as fan:
        for n in range(10):
            assert (await _write(fan, contest, f"Message {n}")).status_code == 303
        eleventh = await _write(fan, contest, "One too many")
        assert "Too many" in await after_redirect(fan, eleventh)
    assert await ConversationMessage.filter(conversation__brand=brand).count() == 10


async def test_the_inbox_puts_unread_first_then_the_latest_and_pages_without_gaps(
    database_url: str,
) -> None:
    brand, marketer = await brand_with_marketer()
    await marketer.fetch_related("brand")
    now = utcnow()
    people = [await participant(name=f"Person {n}") for n in range(5)]
    for n, person in enumerate(people):
        await conversations.write_to_brand(
            person, brand, f"Question {n}", now=now + timedelta(minutes=n)
        )
    # Person 4 wrote last but has been answered: read, after every unread one.
    read = await Conversation.get(participant=people[4])
    await conversations.answer(
        marketer, read.id, "Done", now=now + timedelta(minutes=9), links=LINKS
    )
    order: list[str] = []
    after = None
    while True:
        page = await conversations.inbox(brand, after=after, limit=2)
        order += [t.conversation.participant.display_name for t in page]
        if len(page) < 2:
            break
        last = page[-1].conversation
        after = InboxCursor.decode(InboxCursor(last.unread, last.last_message_at, last.id).encode())
    assert order == ["Person 3", "Person 2", "Person 1", "Person 0", "Person 4"]
    found = await conversations.inbox(brand, search="question 2")
    assert [t.conversation.participant.display_name for t in found] == ["Person 2"]
    by_name = await conversations.inbox(brand, search="person 1")
    assert [t.conversation.participant.display_name for t in by_name] == ["Person 1"]
    with pytest.raises(InvalidInput):
        InboxCursor.decode("not-a-cursor")


async def test_conversations_are_assigned_within_the_team_and_only_editors_answer(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, owner = await brand_with_marketer()
    reader = email("viewer")
    await brands.add_marketer(
        brand, reader, name="Vera", role=MarketerRole.VIEWER, actor="test", now=utcnow()
    )
    other_brand, outsider = await brand_with_marketer()
    await owner.fetch_related("brand")
    await conversations.write_to_brand(await participant(), brand, "Hello", now=utcnow())
    talk = await Conversation.get(brand=brand)
    await conversations.assign(owner, talk.id, owner.id, now=utcnow())
    assert (await Conversation.get(id=talk.id)).assigned_to_id == owner.id  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput):
        await conversations.assign(owner, talk.id, outsider.id, now=utcnow())
    mine = await conversations.inbox(brand, mine=owner)
    assert [t.conversation.id for t in mine] == [talk.id]

    here = f"/console/{brand.slug}/inbox/{talk.id}"
    async with marketer_console(app, mailbox, reader) as console:
        assert (await console.get(here)).status_code == 200
        token = await csrf(console, here)
        for action, data in (("answer", {"message": "Hi"}), ("assign", {}), ("read", {})):
            response = await console.post(f"{here}/{action}", data={"csrf_token": token, **data})
            assert response.status_code == 403, action
    async with marketer_console(app, mailbox, outsider.email) as console:
        assert (await console.get(here)).status_code == 404
        assert (
            await console.get(f"/console/{other_brand.slug}/inbox/{talk.id}")
        ).status_code == 404
    assert not await ConversationMessage.filter(conversation=talk, from_brand=True).exists()


async def test_the_account_export_holds_the_conversations_and_deleting_removes_them(
    database_url: str,
) -> None:
    brand, marketer = await brand_with_marketer()
    await marketer.fetch_related("brand")
    person = await participant(name="Ana")
    await conversations.write_to_brand(person, brand, "Hello there", now=utcnow())
    talk = await Conversation.get(participant=person)
    await conversations.answer(marketer, talk.id, "Hi Ana!", now=utcnow(), links=LINKS)
    exported = await accounts.export(person, now=utcnow())
    [kept] = exported["conversations"]
    assert kept["brand"] == brand.name
    assert [(m["from"], m["text"]) for m in kept["messages"]] == [
        ("you", "Hello there"),
        (f"Marta ({brand.name})", "Hi Ana!"),
    ]
    await accounts.delete(person)
    assert not await Conversation.filter(id=talk.id).exists()
    assert not await ConversationMessage.filter(conversation_id=talk.id).exists()


async def test_the_inbox_and_the_sent_email_show_times_in_the_marketers_zone(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    person = await participant(name="Nora")
    written = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    await conversations.write_to_brand(person, brand, "Any news?", now=written)
    talk = await Conversation.get(brand=brand, participant=person)
    async with marketer_console(app, mailbox, address) as console:
        audit_page = f"/console/{brand.slug}/audit"
        chosen = await console.post(
            f"/console/{brand.slug}/time-zone",
            data={"csrf_token": await csrf(console, audit_page), "time_zone": "America/New_York"},
        )
        assert chosen.status_code == 303
        # 10:00 UTC is 05:00 in New York (and 11:00 in Madrid).
        for here in (f"/console/{brand.slug}/inbox", f"/console/{brand.slug}/inbox/{talk.id}"):
            text = page_text(await console.get(here))
            assert "5 Jan, 05:00" in text and "11:00" not in text, here
        here = f"/console/{brand.slug}/inbox/{talk.id}"
        answered = await console.post(
            f"{here}/answer",
            data={"csrf_token": await csrf(console, here), "message": "Soon, Nora."},
        )
        assert answered.status_code == 303
        sent_page = f"/console/{brand.slug}/outbox"
        sent = await Outbox.filter(brand=brand).order_by("-id").first()
        assert sent is not None
        in_new_york = sent.created_at.astimezone(ZoneInfo("America/New_York"))
        assert in_new_york.strftime("%H:%M") in page_text(await console.get(sent_page))
