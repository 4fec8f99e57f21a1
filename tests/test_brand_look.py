"""A brand created from the console, with its logo and colour: images checked by their
content, kept under MEDIA_DIR, served safely, and shown to participants."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from contests import brands, media
from contests.clock import utcnow
from contests.errors import InvalidInput
from contests.look import clean_colour
from contests.models import Brand, Marketer, MarketerRole
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    browser,
    csrf,
    email,
    live_contest,
    marketer_console,
    page_text,
    sign_in,
    unique,
)
from tests.support.images import png, stored_logo

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


async def test_an_owner_creates_a_brand_with_a_logo_and_becomes_its_owner(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    _, address = await brand_and_marketer_address()
    name = unique("Roastery")
    async with marketer_console(app, mailbox, address) as console:
        token = await csrf(console, "/console?new")
        created = await console.post(
            "/console",
            data={
                "csrf_token": token,
                "name": name,
                "domains": "roastery.example.com",
                "reply_to": "hola@roastery.example.com",
                "colour": "#8A3B12",
            },
            # Named like an SVG: the bytes say PNG, and the bytes decide.
            files={"logo": ("logo.svg", png(), "image/svg+xml")},
        )
        assert "Brand created." in await after_redirect(console, created)
        brand = await Brand.get(name=name)
        assert brand.colour == "#8a3b12" and brand.site_domains == ["roastery.example.com"]
        assert media.NAME.fullmatch(brand.logo) and brand.logo.endswith(".png")
        owner = await Marketer.get(brand=brand)
        assert owner.email == address and owner.role is MarketerRole.OWNER

        logo = await console.get(f"/media/{brand.logo}")
        assert logo.status_code == 200
        assert logo.headers["content-type"] == "image/png"
        assert logo.headers["x-content-type-options"] == "nosniff"
        assert Image.open(io.BytesIO(logo.content)).size == (40, 20)
        style = await console.get(f"/look/{brand.slug}.css")
        assert style.headers["content-type"].startswith("text/css")
        assert "--accent:#8a3b12" in style.text


async def test_a_marketer_who_owns_no_brand_may_not_create_one(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_and_marketer_address()
    editor = email("editor")
    await brands.add_marketer(brand, editor, role=MarketerRole.EDITOR, actor="t", now=utcnow())
    async with marketer_console(app, mailbox, editor) as console:
        home = await console.get("/console")
        assert "Create a brand" not in page_text(home)
        token = await csrf(console, f"/console/{brand.slug}")
        refused = await console.post(
            "/console", data={"csrf_token": token, "name": unique("Nope"), "domains": "x.example"}
        )
        assert refused.status_code == 403
        assert "Only the owner of a brand can create another one" in page_text(refused)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("logo.png", SVG), "must be a PNG, JPEG or WebP image (SVG is not accepted)"),
        (("logo.png", b"\x89PNG\r\n\x1a\nnot really"), "must be a PNG, JPEG or WebP image"),
        (("big.png", b"\x89PNG" + b"0" * 1_200_000), "too large"),
    ],
    ids=["svg", "broken-png", "too-large"],
)
async def test_a_logo_that_is_not_a_plain_image_is_refused_with_a_reason(
    app: Any, worker: Any, mailbox: Mailbox, upload: tuple[str, bytes], message: str
) -> None:
    brand, address = await brand_and_marketer_address()
    async with marketer_console(app, mailbox, address) as console:
        token = await csrf(console, f"/console/{brand.slug}")
        response = await console.post(
            f"/console/{brand.slug}/look",
            data={"csrf_token": token, "colour": ""},
            files={"logo": (upload[0], upload[1], "image/png")},
        )
        assert message in await after_redirect(console, response)
    await brand.refresh_from_db()
    assert brand.logo == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("#8a3b12", "#8a3b12"), ("#000", "#000000"), ("", ""), ("1d4ed8", "#1d4ed8")],
)
def test_a_colour_dark_enough_for_white_text_is_kept(value: str, expected: str) -> None:
    assert clean_colour(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [("#ffcc00", "low_contrast"), ("#f97316", "low_contrast"), ("red", "invalid_colour")],
)
def test_a_pale_or_unreadable_colour_is_refused(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_colour(value)
    assert refused.value.code == code


async def test_media_names_that_we_did_not_make_are_not_served(app: Any, client: Any) -> None:
    for name in ("..%2Fsettings.py", "%2E%2E/%2E%2E/etc/passwd", "abc.svg", "0" * 32 + ".html"):
        response = await client.get(f"/media/{name}")
        assert response.status_code == 404, name


async def test_participants_see_the_brand_logo_and_colour_on_the_contest_page(
    app: Any, worker: Any, mailbox: Mailbox, tmp_path: Any
) -> None:
    brand, _ = await brand_and_marketer_address()
    logo = stored_logo(app.state.gymkana.settings)
    await brands.update_look(brand, colour="#1d4ed8", logo=logo, actor="test", now=utcnow())
    contest = await live_contest(brand)
    async with browser(app, language="en") as visitor:
        await sign_in(visitor, mailbox, email("fan"))
        page = await visitor.get(f"/c/{contest.slug}")
    assert f'src="/media/{logo}"' in page.text
    assert f'href="/look/{brand.slug}.css"' in page.text
    # Participants who manage no brand see no console link.
    assert 'href="/console"' not in page.text


async def test_a_marketer_finds_the_console_in_the_participant_header(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    async with marketer_console(app, mailbox, address) as console:
        page = await console.get(f"/c/{contest.slug}")
    assert 'href="/console"' in page.text


async def test_the_brands_emails_show_its_logo_and_colour(database_url: str, app: Any) -> None:
    brand, owner = await brand_with_marketer()
    logo = stored_logo(app.state.gymkana.settings)
    await brands.update_look(brand, colour="#1d4ed8", logo=logo, actor="test", now=utcnow())
    _, message = await brands.invite_marketer(
        brand,
        email("colleague"),
        name="Vera",
        invited_by=owner,
        links=LINKS,
        locale="en",
        now=utcnow(),
    )
    assert f'<img src="http://testserver/media/{logo}" alt="{brand.name}"' in message.html_body
    assert "border-top:4px solid #1d4ed8" in message.html_body
