"""The installation check fetches the contest's brand pages from a real HTTP server and
says where the snippet is; it never leaves the brand's domains and, unless allowed,
never reaches a private or loopback address."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from contests import brands, installation
from contests.clock import utcnow
from contests.installation import Limits
from contests.models import Brand, Contest, MarketerRole
from tests.conftest import Mailbox, eventually
from tests.factories import (
    added_step,
    after_redirect,
    brand_and_marketer_address,
    csrf,
    draft_contest,
    email,
    marketer_console,
    page_text,
)
from tests.support.servers import wsgi_server

MARKER = "http://testserver/snippet.js"
TAG = f'<script src="{MARKER}?v=1" async></script>'.encode()


def brand_site(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A brand's site: pages with and without the tag, redirects, a huge and a slow page."""
    path = environ["PATH_INFO"]
    if path == "/with":
        body = b"<html><body><h1>Origins</h1>" + TAG + b"</body></html>"
    elif path == "/without":
        body = b"<html><body><h1>Menu</h1></body></html>"
    elif path == "/redirect-in":
        start_response("302 Found", [("Location", "/with")])
        return [b""]
    elif path == "/redirect-out":
        start_response("302 Found", [("Location", "http://elsewhere.example/with")])
        return [b""]
    elif path == "/huge":
        start_response("200 OK", [("Content-Type", "text/html")])
        return (b"x" * 65536 for _ in range(64))
    elif path == "/slow":
        time.sleep(2)
        body = b"<html>" + TAG + b"</html>"
    else:
        start_response("404 Not Found", [("Content-Type", "text/html")])
        return [b"gone"]
    start_response("200 OK", [("Content-Type", "text/html")])
    return [body]


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with wsgi_server(brand_site) as base:
        yield base


async def _contest_leading_to(base: str, *paths: str) -> tuple[Brand, Contest, str]:
    brand, address = await brand_and_marketer_address()
    await brands.update_domains(
        brand, ["127.0.0.1", "shop.example.com"], actor="test", now=utcnow()
    )
    contest = await draft_contest(brand)
    for path in paths:
        await added_step(contest, "visit", {"target_url": base + path}, title=path)
    return brand, contest, address


LOOPBACK_ALLOWED = Limits(allow_private=True, timeout=0.5, max_bytes=1_000_000)


async def test_each_page_says_whether_the_snippet_is_on_it(database_url: str, site: str) -> None:
    paths = ("/with", "/without", "/redirect-in", "/redirect-out", "/huge", "/slow", "/gone")
    _, contest, _ = await _contest_leading_to(site, *paths)
    results = await installation.check_installation(
        contest.id, marker=MARKER, limits=LOOPBACK_ALLOWED, now=utcnow()
    )
    assert results == {
        site + "/with": "found",
        site + "/without": "missing",
        site + "/redirect-in": "found",
        # Redirects are followed only within the brand's domains.
        site + "/redirect-out": "refused",
        site + "/huge": "unreachable",
        site + "/slow": "unreachable",
        site + "/gone": "unreachable",
    }


async def test_private_and_loopback_addresses_are_refused_unless_allowed(
    database_url: str, site: str
) -> None:
    _, contest, _ = await _contest_leading_to(site, "/with")
    strict = Limits(allow_private=False, timeout=1, max_bytes=1_000_000)
    results = await installation.check_installation(
        contest.id, marker=MARKER, limits=strict, now=utcnow()
    )
    assert results == {site + "/with": "refused"}


async def test_an_address_off_the_brands_domains_is_never_fetched(
    database_url: str, site: str
) -> None:
    brand, contest, _ = await _contest_leading_to(site, "/with")
    # The domain is taken off after the step was written.
    await brands.update_domains(brand, ["shop.example.com"], actor="test", now=utcnow())
    results = await installation.check_installation(
        contest.id, marker=MARKER, limits=LOOPBACK_ALLOWED, now=utcnow()
    )
    assert results == {site + "/with": "refused"}


async def test_an_editor_presses_the_button_and_the_worker_reports_on_the_page(
    app: Any, worker: Any, mailbox: Mailbox, site: str
) -> None:
    brand, contest, _ = await _contest_leading_to(site, "/with", "/without")
    editor = email("editor")
    await brands.add_marketer(brand, editor, role=MarketerRole.EDITOR, actor="t", now=utcnow())
    page_path = f"/console/{brand.slug}/contests/{contest.id}/installation"
    async with marketer_console(app, mailbox, editor) as console:
        # Reached from the contest's page, where its steps are written.
        contest_page = (await console.get(f"/console/{brand.slug}/contests/{contest.id}")).text
        assert f'href="{page_path}"' in contest_page
        before = page_text(await console.get(page_path))
        assert "Not checked yet." in before
        pressed = await console.post(
            page_path + "/check", data={"csrf_token": await csrf(console, page_path)}
        )
        assert "The check is on its way" in await after_redirect(console, pressed)

        async def reported() -> bool:
            return "The snippet is installed on this page." in page_text(
                await console.get(page_path)
            )

        await eventually(reported, 20)
        text = page_text(await console.get(page_path))
        assert "the snippet is not on it" in text


async def test_the_check_cannot_be_pressed_in_a_loop(
    app: Any, worker: Any, mailbox: Mailbox, site: str
) -> None:
    brand, contest, address = await _contest_leading_to(site, "/with")
    page_path = f"/console/{brand.slug}/contests/{contest.id}/installation"
    limit = int(app.state.gymkana.settings.install_check_limit.split("/")[0])
    async with marketer_console(app, mailbox, address) as console:
        token = await csrf(console, page_path)
        said = [
            await after_redirect(
                console, await console.post(page_path + "/check", data={"csrf_token": token})
            )
            for _ in range(limit + 1)
        ]
    assert all("The check is on its way" in text for text in said[:limit])
    assert "Too many attempts." in said[limit]
