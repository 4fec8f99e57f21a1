"""Printing a qr step's code: an A4 poster page with the clue and the brand's logo; and
each referral's code as SVG or PNG for the marketer."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from contests import brands
from contests.clock import utcnow
from tests.conftest import Mailbox
from tests.factories import (
    added_step,
    brand_and_marketer_address,
    entrant,
    live_contest,
    marketer_console,
    page_text,
)
from tests.support.images import stored_logo


async def test_a_printed_qr_step_has_an_a4_poster_with_its_clue_and_the_brands_logo(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    logo = stored_logo(app.state.gymkana.settings)
    await brands.update_look(brand, colour="", logo=logo, actor="test", now=utcnow())
    contest = await live_contest(brand)
    step = await added_step(
        contest, "qr", {}, title="At the counter", clue="Ask for the roaster's card"
    )
    rotating = await added_step(contest, "qr", {"rotate_seconds": "30"}, title="On stage")
    base = f"/console/{brand.slug}/contests/{contest.id}/steps"
    async with marketer_console(app, mailbox, address) as console:
        contest_page = await console.get(f"/console/{brand.slug}/contests/{contest.id}")
        assert f"{base}/{step.id}/poster" in contest_page.text
        poster = await console.get(f"{base}/{step.id}/poster")
        assert poster.status_code == 200
        text = page_text(poster)
        assert "At the counter" in text and "Ask for the roaster's card" in text
        assert f'src="/media/{logo}"' in poster.text
        assert 'src="data:image/svg+xml;base64,' in poster.text
        assert f"/c/{contest.slug}/qr/{step.public_id}/" in text
        screen_only = page_text(await console.get(f"{base}/{rotating.id}/poster"))
        assert "show it on a screen instead" in screen_only
        assert 'data-testid="poster"' not in screen_only


async def test_a_referral_code_downloads_as_svg_and_png(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    entry = await entrant(contest)
    base = f"/console/{brand.slug}/contests/{contest.id}/referrals"
    async with marketer_console(app, mailbox, address) as console:
        svg = await console.get(f"{base}/{entry.referral_code}.svg")
        assert svg.status_code == 200
        assert svg.headers["content-type"] == "image/svg+xml"
        assert svg.content.lstrip().startswith(b"<?xml") or b"<svg" in svg.content
        png = await console.get(f"{base}/{entry.referral_code}.png")
        assert png.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(png.content)).format == "PNG"
        assert (await console.get(f"{base}/nobodys-code.svg")).status_code == 404
        assert (await console.get(f"{base}/{entry.referral_code}.gif")).status_code == 404
