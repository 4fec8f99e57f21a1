"""The console's entrants page: a keyset-paged, filtered list of a contest's entrants,
and its export as CSV for the roles that may take personal data away."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import pytest

from contests import brands, entrants
from contests.clock import utcnow
from contests.entries import record_completion
from contests.models import (
    AuditLog,
    Brand,
    Contest,
    Entry,
    EntryStatus,
    FraudFlag,
    MarketerRole,
    Participant,
    Step,
)
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    csrf,
    email,
    entrant,
    live_contest,
    marketer_console,
    page_text,
)
from tests.support.queries import counting_queries


def _path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}/entrants"


def _pseudonyms(html: str) -> list[str]:
    table = html[html.index('data-testid="entrants"') :]
    return re.findall(r"<td><code>([^<]+)</code></td>", table)


def _link(html: str, testid: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="[a-z]+" data-testid="{testid}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


async def _viewer(brand: Brand) -> str:
    address = email("viewer")
    await brands.add_marketer(
        brand, address, name="Vera", role=MarketerRole.VIEWER, actor="test", now=utcnow()
    )
    return address


async def test_pages_walk_every_entrant_once_newest_first_and_back(
    app: Any, worker: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entrants, "PAGE_SIZE", 2)
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    made = [(await entrant(contest, name=f"Person {n}")).public_id for n in range(5)]
    async with marketer_console(app, mailbox, address) as console:
        first = page_text(await console.get(_path(brand, contest)))
        assert _link(first, "newer") is None
        seen, pages, here = _pseudonyms(first), [first], first
        while (older := _link(here, "older")) is not None:
            here = page_text(await console.get(older))
            pages.append(here)
            seen += _pseudonyms(here)
        assert seen == made[::-1]
        assert [len(_pseudonyms(p)) for p in pages] == [2, 2, 1]
        # Someone entering meanwhile does not shift the pages already being read.
        await entrant(contest, name="Late")
        newer = _link(here, "newer")
        assert newer is not None
        back = page_text(await console.get(newer))
        assert _pseudonyms(back) == made[::-1][2:4]


async def test_search_finds_by_name_or_email_whatever_the_case_and_only_literally(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    lucia = await entrant(contest, name="Lucía Pérez")
    other = await entrant(contest, name="Tomás 100% real")
    await entrant(contest, name="Nadie")
    lucia_email = (await Participant.get(entries__id=lucia.id)).email
    assert lucia_email is not None
    async with marketer_console(app, mailbox, address) as console:

        async def found(**params: str) -> list[str]:
            response = await console.get(_path(brand, contest), params=params)
            assert response.status_code == 200
            return _pseudonyms(page_text(response))

        assert await found(q="LUCÍA".lower()) == [lucia.public_id]
        assert await found(q=lucia_email.upper()) == [lucia.public_id]
        assert await found(q="100%") == [other.public_id]
        # A wildcard typed is a character to find, not "anything".
        assert await found(q="_") == []
        assert await found(q="%") == [other.public_id]
        html = page_text(await console.get(_path(brand, contest), params={"q": "zzz"}))
        assert "Nobody matches these filters." in html


async def test_filters_by_step_done_eligibility_and_flags(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    code = await Step.get(contest=contest, kind="code")
    finisher = await entrant(contest, name="Fina", complete=True)
    halfway = await entrant(contest, name="Media")
    await record_completion(halfway, code, utcnow(), links=LINKS)
    starter = await entrant(contest, name="Sara")
    flagged = await entrant(contest, name="Flor", complete=True)
    await FraudFlag.create(
        contest=contest, entry=flagged, reason="disposable_email", details={}, created_at=utcnow()
    )
    out = await entrant(contest, name="Fuera", complete=True)
    await Entry.filter(id=out.id).update(status=EntryStatus.DISQUALIFIED)
    async with marketer_console(app, mailbox, address) as console:

        async def found(**params: str) -> set[str]:
            response = await console.get(_path(brand, contest), params=params)
            assert response.status_code == 200, response.text
            return set(_pseudonyms(page_text(response)))

        everyone = {e.public_id for e in (finisher, halfway, starter, flagged, out)}
        assert await found() == everyone
        assert await found(step=str(code.id)) == {
            finisher.public_id,
            halfway.public_id,
            flagged.public_id,
            out.public_id,
        }
        assert await found(eligible="yes") == {finisher.public_id, flagged.public_id}
        assert await found(eligible="no") == {halfway.public_id, starter.public_id, out.public_id}
        assert await found(flagged="yes") == {flagged.public_id}
        assert await found(flagged="no", eligible="yes") == {finisher.public_id}

        html = page_text(await console.get(_path(brand, contest)))

    def row(pseudonym: str) -> tuple[str, ...]:
        match = re.search(
            rf"<code>{pseudonym}</code></td>\s*"
            r"<td>(\d+) / (\d+)</td><td>(\d+)</td><td>([^<]+)</td>",
            html,
        )
        assert match, f"no row for {pseudonym}"
        return match.groups()

    # Both steps (2 + 3 points) done: 1 + 5 chances, in the draw.
    assert row(finisher.public_id) == ("2", "2", "6", "yes")
    assert row(halfway.public_id) == ("1", "2", "4", "not yet")
    assert row(starter.public_id) == ("0", "2", "1", "not yet")
    assert row(out.public_id)[3] == "not yet"
    flagged_row = re.search(rf'<tr class="flagged">.*?{flagged.public_id}.*?</tr>', html, re.S)
    assert flagged_row and "disposable email address" in flagged_row.group(0)


async def test_bad_filters_and_cursors_get_a_clear_refusal(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    elsewhere = await live_contest(brand)
    their_step = await Step.filter(contest=elsewhere).first()
    assert their_step is not None
    async with marketer_console(app, mailbox, address) as console:
        for params, message in (
            ({"step": str(their_step.id)}, "That step is not in this contest."),
            ({"step": "x"}, "This page of the list does not exist."),
            ({"older": "-3"}, "This page of the list does not exist."),
            ({"newer": "9" * 40}, "is too long"),
            ({"flagged": "maybe"}, "Choose one of the options"),
            ({"q": "a" * 101}, "is too long"),
            ({"q": "a\x00b"}, "cannot be used"),
        ):
            response = await console.get(_path(brand, contest), params=params)
            assert response.status_code == 422, (params, response.status_code)
            assert message in page_text(response), params


async def test_a_page_costs_the_same_few_queries_however_many_entrants(
    database_url: Any,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    for n in range(6):
        entry = await entrant(contest, name=f"P{n}", complete=n % 2 == 0)
        if n % 3 == 0:
            await FraudFlag.create(
                contest=contest, entry=entry, reason="same_device", details={}, created_at=utcnow()
            )
    with counting_queries() as small:
        await entrants.page(contest.id, entrants.EntrantFilter(), size=2)
    with counting_queries() as large:
        found = await entrants.page(contest.id, entrants.EntrantFilter(eligible=True), size=6)
    assert small.count == large.count == 4
    assert len(found.rows) == 3 and all(row.eligible for row in found.rows)


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


async def _export(
    console: httpx.AsyncClient, page: str, lang: str = "en", **filters: str
) -> httpx.Response:
    return await console.post(
        page + "/export",
        params={"lang": lang},
        data={"csrf_token": await csrf(console, page), **filters},
    )


async def test_an_editor_exports_the_filtered_entrants_as_csv_safe_for_spreadsheets(
    app: Any, worker: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entrants, "EXPORT_BATCH", 2)
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    sly = await entrant(contest, name='=HYPERLINK("http://evil.example","win")', complete=True)
    plain = [await entrant(contest, name=f"Ana {n}", complete=True) for n in range(3)]
    late = await entrant(contest, name="Sin pasos")
    page = _path(brand, contest)
    async with marketer_console(app, mailbox, address) as console:
        response = await _export(console, page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = _csv_rows(response.text)
        filtered = _csv_rows((await _export(console, page, eligible="no")).text)
        spanish = _csv_rows((await _export(console, page, lang="es")).text)

    header, *lines = rows
    assert header[:3] == ["Draw id", "Name", "Email"]

    # Oldest first, across batches, each entrant once.
    # A draw id may start with "-", which a spreadsheet would read as a formula too.
    def shown(pseudonym: str) -> str:
        return "'" + pseudonym if pseudonym.startswith("-") else pseudonym

    assert [line[0] for line in lines] == [shown(e.public_id) for e in (sly, *plain, late)]
    assert lines[0][1] == "'" + '=HYPERLINK("http://evil.example","win")'
    assert lines[1][1] == "Ana 0" and lines[1][5:9] == ["2", "5", "6", "yes"]
    assert [line[0] for line in filtered[1:]] == [shown(late.public_id)]
    assert spanish[0][1] == "Nombre"
    exports = await AuditLog.filter(brand=brand, action="entrants.exported").order_by("id")
    assert len(exports) == 3
    assert exports[0].actor == address and exports[0].target == contest.slug
    assert exports[1].data == {"eligible": "no"}


async def test_a_viewer_reads_the_list_but_may_not_take_personal_data_away(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    await entrant(contest, name="Ana")
    viewer = await _viewer(brand)
    page = _path(brand, contest)
    async with marketer_console(app, mailbox, viewer) as console:
        html = page_text(await console.get(page))
        assert 'data-testid="export"' not in html
        assert len(_pseudonyms(html)) == 1
        refused = await _export(console, page)
        assert refused.status_code == 403
    assert not await AuditLog.filter(brand=brand, action="entrants.exported").exists()


async def test_an_export_needs_the_forms_token_and_the_brands_own_contest(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    theirs, _ = await brand_with_marketer()
    their_contest = await live_contest(theirs)
    async with marketer_console(app, mailbox, address) as console:
        forged = await console.post(_path(brand, contest) + "/export", data={"csrf_token": "x"})
        # Back to the list, which says why; no file.
        assert forged.status_code == 303
        assert forged.headers["location"] == _path(brand, contest)
        assert "expired" in await after_redirect(console, forged)
        token = await csrf(console, _path(brand, contest))
        for path in (
            _path(theirs, their_contest),
            f"/console/{brand.slug}/contests/{their_contest.id}/entrants",
        ):
            assert (await console.get(path)).status_code == 404
            stolen = await console.post(path + "/export", data={"csrf_token": token})
            assert stolen.status_code == 404
    assert not await AuditLog.filter(action="entrants.exported", target=contest.slug).exists()


async def test_the_contest_page_counts_entries_and_links_to_the_list(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    for _ in range(3):
        await entrant(contest)
    async with marketer_console(app, mailbox, address) as console:
        html = page_text(await console.get(f"/console/{brand.slug}/contests/{contest.id}"))
    entries = html[html.index('id="entries"') : html.index('id="draw"')]
    assert "(3)" in entries
    assert f'href="{_path(brand, contest)}"' in entries


async def test_the_entrants_page_does_not_grow_with_its_entrants(
    app: Any, worker: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entrants, "PAGE_SIZE", 3)
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    path = _path(brand, contest)
    async with marketer_console(app, mailbox, address) as console:
        await entrant(contest, complete=True)
        with counting_queries() as few:
            assert (await console.get(path)).status_code == 200
        for n in range(5):
            await entrant(contest, complete=n % 2 == 0)
        with counting_queries() as many:
            page = await console.get(path, params={"eligible": "yes"})
            assert page.status_code == 200
    assert 0 < few.count == many.count, many.statements
    assert len(_pseudonyms(page_text(page))) == 3
