"""Hearing from the brand again: a separate box on entering, never ticked for the
participant, whose words and time are kept; the brand downloads the list (CSV, audited);
the participant stops it from their account page."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from contests import accounts, brands, entries, optin
from contests.clock import utcnow
from contests.models import AuditLog, Brand, BrandOptIn, Contest, MarketerRole, Participant
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    browser,
    csrf,
    email,
    live_contest,
    marketer_console,
    page_text,
    participant,
    sign_in,
)

SPANISH = (
    "Quiero recibir noticias de {brand} después del concurso: novedades y ofertas por correo. "
    "Puedo dejar de recibirlas cuando quiera desde mi cuenta."
)


async def _enter(
    client: httpx.AsyncClient, mailbox: Mailbox, contest: Contest, *, hear: bool
) -> Participant:
    address = email("fan")
    await sign_in(client, mailbox, address, f"/c/{contest.slug}")
    data = {"csrf_token": await csrf(client, f"/c/{contest.slug}"), "consent": "yes"}
    if hear:
        data["hear_from_brand"] = "yes"
    response = await client.post(f"/c/{contest.slug}/enter", data=data)
    assert response.status_code == 303, response.text
    return await Participant.get(email=address)


async def test_the_box_is_never_ticked_and_leaving_it_records_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with browser(app, language="es") as client:
        await sign_in(client, mailbox, email("fan"), f"/c/{contest.slug}")
        page = (await client.get(f"/c/{contest.slug}")).text
        box = page[page.index('name="hear_from_brand"') - 60 :].split(">", 1)[0]
        assert "checked" not in box
        # The very words that are kept when the box is ticked.
        assert SPANISH.format(brand=brand.name) in page_text(await client.get(f"/c/{contest.slug}"))
        me = await _enter(client, mailbox, contest, hear=False)
    assert not await BrandOptIn.filter(participant=me).exists()


async def test_the_words_ticked_are_kept_and_the_participant_withdraws_them(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    async with browser(app, language="es") as client:
        me = await _enter(client, mailbox, contest, hear=True)
        wish = await BrandOptIn.get(participant=me, brand=brand)
        assert wish.text == SPANISH.format(brand=brand.name)
        assert wish.locale == "es" and wish.withdrawn_at is None
        assert wish.contest_id == contest.id  # type: ignore[attr-defined]

        account = page_text(await client.get("/me"))
        assert f"Marcaste: “{wish.text}”" in account
        stop = await client.post(
            f"/me/brands/{brand.slug}/opt-out", data={"csrf_token": await csrf(client, "/me")}
        )
        assert "ya no te escribirá" in await after_redirect(client, stop)
        again = await client.post(
            f"/me/brands/{brand.slug}/opt-out", data={"csrf_token": await csrf(client, "/me")}
        )
        assert "No estás en la lista de esta marca." in await after_redirect(client, again)
    stopped = await BrandOptIn.get(id=wish.id)
    assert stopped.withdrawn_at is not None and stopped.text == wish.text
    assert await optin.list_size(brand) == 0


async def _on_the_list(brand: Brand, name: str) -> Participant:
    person = await participant(name=name)
    contest = await live_contest(brand)
    await entries.enter(contest, person, consented=True, locale="en", now=utcnow())
    await optin.opt_in(person, brand, locale="en", now=utcnow(), contest=contest)
    return person


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_the_brand_downloads_the_list_of_those_still_on_it_and_it_is_audited(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    ana = await _on_the_list(brand, "Ana")
    tricky = await _on_the_list(brand, "=HYPERLINK(1)")
    gone = await _on_the_list(brand, "Luis")
    await optin.withdraw(gone, brand.slug, now=utcnow())
    async with marketer_console(app, mailbox, address) as console:
        listing = await console.get(f"/console/{brand.slug}/opt-ins")
        assert "2 people asked to hear from you" in page_text(listing)
        assert (await console.get(f"/console/{brand.slug}/opt-ins.csv")).status_code == 405
        response = await console.post(
            f"/console/{brand.slug}/opt-ins.csv",
            data={"csrf_token": await csrf(console, f"/console/{brand.slug}/opt-ins")},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = _csv(response.text)
    assert rows[0] == list(optin.COLUMNS)
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("Ana", ana.email),
        ("'=HYPERLINK(1)", tricky.email),
    ]
    assert rows[1][5].startswith("I would like to hear from")
    logged = await AuditLog.get(action="opt_ins.exported", brand=brand)
    assert logged.data["rows"] == 2


async def test_the_list_streams_in_batches_without_losing_anyone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand, marketer = await brand_with_marketer()
    await marketer.fetch_related("brand")
    names = [f"Person {n}" for n in range(5)]
    for name in names:
        await _on_the_list(brand, name)
    monkeypatch.setattr(optin, "BATCH", 2)
    pieces = [piece async for piece in await optin.export_csv(marketer, now=utcnow())]
    assert len(pieces) == 1 + 3
    assert [row[0] for row in _csv("".join(pieces))[1:]] == names


async def test_a_viewer_cannot_download_and_another_brand_sees_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    reader = email("viewer")
    await brands.add_marketer(
        brand, reader, name="Vera", role=MarketerRole.VIEWER, actor="test", now=utcnow()
    )
    await _on_the_list(brand, "Ana")
    other, outsider = await brand_and_marketer_address()
    async with marketer_console(app, mailbox, reader) as console:
        token = await csrf(console, f"/console/{brand.slug}/opt-ins")
        refused = await console.post(
            f"/console/{brand.slug}/opt-ins.csv", data={"csrf_token": token}
        )
        assert refused.status_code == 403 and "Ana" not in refused.text
    async with marketer_console(app, mailbox, outsider) as console:
        token = await csrf(console, f"/console/{other.slug}/opt-ins")
        assert (await console.get(f"/console/{brand.slug}/opt-ins")).status_code == 404
        crossed = await console.post(
            f"/console/{brand.slug}/opt-ins.csv", data={"csrf_token": token}
        )
        assert crossed.status_code == 404 and "Ana" not in crossed.text
    assert not await AuditLog.filter(action="opt_ins.exported", brand=brand).exists()


async def test_the_account_export_holds_the_wish_and_deleting_removes_it(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    person = await _on_the_list(brand, "Ana")
    exported = await accounts.export(person, now=utcnow())
    [wish] = exported["hearing_from_brands"]
    assert wish["brand"] == brand.name and wish["you_ticked"].startswith("I would like")
    await accounts.delete(person)
    assert await optin.list_size(brand) == 0
