"""A participant chooses what we call them and the language we write to them in."""

from __future__ import annotations

from typing import Any

import httpx

from contests import entries
from contests.clock import utcnow
from contests.models import Entry, Participant
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    brand_with_marketer,
    csrf,
    email,
    live_contest,
    sign_in,
)


async def test_a_participant_sets_their_name_and_language(
    client: httpx.AsyncClient, worker: Any, mailbox: Mailbox
) -> None:
    address = email("pepa")
    await sign_in(client, mailbox, address, "/me")
    person = await Participant.get(email=address)
    contest = await live_contest((await brand_with_marketer())[0])
    entry = await entries.enter(contest, person, consented=True, locale="es", now=utcnow())

    response = await client.post(
        "/me/profile",
        data={
            "csrf_token": await csrf(client, "/me"),
            "display_name": "  Pepa  Pig ",
            "locale": "en",
        },
    )
    page = await after_redirect(client, response)
    assert "Nice to meet you, Pepa Pig!" in page

    person = await Participant.get(id=person.id)
    assert (person.display_name, person.locale) == ("Pepa Pig", "en")
    # The winners' email is written in the entry's language.
    assert (await Entry.get(id=entry.id)).locale == "en"
    assert "Hello, Pepa Pig" in (await client.get("/me")).text


async def test_a_name_is_required(client: httpx.AsyncClient, worker: Any, mailbox: Mailbox) -> None:
    address = email("nameless")
    await sign_in(client, mailbox, address, "/me")
    before = (await Participant.get(email=address)).display_name
    response = await client.post(
        "/me/profile",
        data={
            "csrf_token": await csrf(client, "/me?lang=en"),
            "display_name": "  ",
            "locale": "en",
        },
    )
    assert "Tell us what to call you." in await after_redirect(client, response)
    assert (await Participant.get(email=address)).display_name == before
