"""A participant whose sign-in gave no verified address is asked for one when they
enter, and it counts once they follow the link emailed to it: then a win reaches them."""

from __future__ import annotations

import re
from typing import Any

from contests import claims, closing, entries
from contests.clock import utcnow
from contests.models import Outbox, Participant, Step, Winner
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
    enter_on_the_web,
    live_contest,
    page_text,
)


async def test_an_entrant_without_a_verified_address_confirms_one_and_hears_of_their_win(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with browser(app, language="en") as client:
        entry = await enter_on_the_web(client, mailbox, contest, name="Xavi")
        # As after signing in with X, which shares no address.
        await Participant.filter(id=entry.participant.id).update(email=None, email_verified=False)  # type: ignore[union-attr]
        page = await client.get(f"/c/{contest.slug}")
        assert "How do we tell you if you win?" in page_text(page)

        token = csrf_of(page.text)
        refused = await client.post(
            "/me/email",
            data={"csrf_token": token, "email": "not an address", "next": f"/c/{contest.slug}"},
        )
        assert "does not look like an email address" in await after_redirect(client, refused)

        address = email("xavi")
        asked = await client.post(
            "/me/email",
            data={"csrf_token": token, "email": address, "next": f"/c/{contest.slug}"},
        )
        assert asked.headers["location"] == f"/c/{contest.slug}"
        assert "We have sent a link to" in await after_redirect(client, asked)

        async def link() -> str | None:
            found = [
                re.search(r"http://testserver(/me/email/\S+)", Mailbox.text(m))
                for m in mailbox.to(address)
            ]
            return next((m.group(1) for m in found if m), None)

        path = await eventually(link)
    # The link may be opened anywhere, by a mail scanner first: a GET changes nothing.
    async with browser(app, language="en") as elsewhere:
        shown = await elsewhere.get(path)
        assert shown.status_code == 200 and address in page_text(shown)
        assert not (await Participant.get(id=entry.participant.id)).email_verified  # type: ignore[union-attr]
        done = await elsewhere.post(path, data={"csrf_token": csrf_of(shown.text)})
        assert done.status_code == 303
    person = await Participant.get(id=entry.participant.id)  # type: ignore[union-attr]
    assert person.email == address and person.email_verified

    for step in await Step.filter(contest=contest):
        await entries.record_completion(entry, step, utcnow(), links=LINKS)
    await closing.close(contest.id, utcnow())
    await closing.run_draw(contest.id, utcnow(), links=LINKS)
    await claims.tell_due(utcnow(), links=LINKS, tokens=Tokens(SECRET))
    [win] = await Winner.filter(contest=contest)
    assert await Outbox.filter(dedupe_key=f"winner:{win.id}", to_email=address).exists()


async def test_asking_needs_a_signed_in_participant(app: Any) -> None:
    async with browser(app, language="en") as stranger:
        token = await csrf(stranger, "/login")
        response = await stranger.post(
            "/me/email", data={"csrf_token": token, "email": email()}, follow_redirects=False
        )
        assert response.status_code == 303 and "/login" in response.headers["location"]
