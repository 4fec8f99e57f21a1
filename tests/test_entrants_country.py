"""The console's entrants of a contest that admits some countries: filtered by the
country each declared at entry, which the list and the export show."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from contests import entrants
from contests.clock import utcnow
from contests.entries import enter
from contests.models import Brand, Contest, Entry
from tests.conftest import Mailbox
from tests.factories import (
    brand_and_marketer_address,
    csrf,
    live_contest,
    marketer_console,
    page_text,
    participant,
)


def _path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}/entrants"


def _pseudonyms(html: str) -> set[str]:
    table = html[html.index('data-testid="entrants"') :]
    return set(re.findall(r"<td><code>([^<]+)</code></td>", table))


async def _admitting(brand: Brand, *countries: str) -> Contest:
    contest = await live_contest(brand)
    # Published contests keep their eligibility: set here as if chosen in the draft.
    await Contest.filter(id=contest.id).update(countries=list(countries))
    return await Contest.get(id=contest.id)


async def _from(contest: Contest, country: str, name: str) -> Entry:
    person = await participant(name=name)
    return await enter(
        contest, person, consented=True, locale="es", now=utcnow(), declared_country=country
    )


async def test_entrants_are_filtered_by_the_country_they_declared_and_show_it(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await _admitting(brand, "ES", "PT")
    ana = await _from(contest, "ES", "Ana")
    luis = await _from(contest, "ES", "Luis")
    joao = await _from(contest, "PT", "João")
    page = _path(brand, contest)
    async with marketer_console(app, mailbox, address) as console:

        async def found(**params: str) -> set[str]:
            response = await console.get(page, params=params)
            assert response.status_code == 200, response.text
            return _pseudonyms(page_text(response))

        assert await found() == {ana.public_id, luis.public_id, joao.public_id}
        assert await found(country="ES") == {ana.public_id, luis.public_id}
        assert await found(country="PT") == {joao.public_id}
        assert await found(country="PT", q="ana") == set()
        html = page_text(await console.get(page, params={"country": "PT"}))
        # The filter offers the contest's countries, by name, and keeps the one chosen.
        assert '<option value="PT" selected>Portugal</option>' in html
        assert '<option value="ES">Spain</option>' in html
        assert re.findall(r'data-testid="country">([^<]+)<', html) == ["Portugal"]
        assert "Show everyone" in html
        refused = await console.get(page, params={"country": "FR"})
        assert refused.status_code == 422
        assert "Choose one of the countries this contest admits." in page_text(refused)
        assert (await console.get(page, params={"country": "ESP"})).status_code == 422
        exported = await console.post(
            page + "/export",
            params={"lang": "en"},
            data={"csrf_token": await csrf(console, page), "country": "ES"},
        )
    header, *lines = list(csv.reader(io.StringIO(exported.text[1:])))
    assert header[-1] == "Country"
    # A draw id starting with "-" comes guarded against formulas, with an apostrophe.
    assert sorted((line[0].removeprefix("'"), line[-1]) for line in lines) == sorted(
        [(ana.public_id, "Spain"), (luis.public_id, "Spain")]
    )


async def test_a_contest_open_to_every_country_offers_no_country_filter(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    async with marketer_console(app, mailbox, address) as console:
        html = page_text(await console.get(_path(brand, contest)))
        assert 'id="country"' not in html
        refused = await console.get(_path(brand, contest), params={"country": "ES"})
        assert refused.status_code == 422


async def test_the_country_filter_pages_with_its_keyset(database_url: Any) -> None:
    brand, _ = await brand_and_marketer_address()
    contest = await _admitting(brand, "ES", "PT")
    spanish = [(await _from(contest, "ES", f"E{n}")).id for n in range(3)]
    for n in range(3):
        await _from(contest, "PT", f"P{n}")
    only = entrants.EntrantFilter(country="ES")
    first = await entrants.page(contest.id, only, size=2)
    assert [row.entry_id for row in first.rows] == spanish[::-1][:2]
    assert first.older_than is not None
    rest = await entrants.page(contest.id, only, older_than=first.older_than, size=2)
    assert [row.entry_id for row in rest.rows] == spanish[:1]
    assert rest.older_than is None
    assert all(row.country == "ES" for row in first.rows + rest.rows)
