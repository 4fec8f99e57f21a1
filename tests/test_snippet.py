"""The snippet itself: small, served compressed with a version, safe to paste into a
page with a strict policy; and the console showing the tag to paste."""

from __future__ import annotations

import gzip
from typing import Any

import httpx

from tests.conftest import Mailbox
from tests.factories import brand_with_marketer, browser, email, page_text, sign_in
from web.snippet.routes import SCRIPT, snippet_script

MAX_GZIPPED = 5 * 1024


def test_the_snippet_is_under_5_kb_gzipped() -> None:
    size = len(gzip.compress(SCRIPT.read_bytes(), compresslevel=9))
    assert size < MAX_GZIPPED, f"the snippet is {size} bytes gzipped"


def test_the_snippet_uses_nothing_a_strict_policy_forbids() -> None:
    """No eval, no markup or styles from strings, no cookie: a CSP without 'unsafe-eval'
    or 'unsafe-inline' and with Trusted Types lets it run (the browser test runs it so)."""
    source = SCRIPT.read_text(encoding="utf-8")
    for forbidden in (
        "eval(",
        "new Function",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "cssText",
        'setAttribute("style"',
        "document.cookie",
        "localStorage",
        'setTimeout("',
        'setInterval("',
    ):
        assert forbidden not in source, forbidden


async def test_the_snippet_is_served_gzipped_with_its_version(client: httpx.AsyncClient) -> None:
    current = snippet_script()
    response = await client.get(f"/snippet.js?v={current.version}")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == SCRIPT.read_bytes()  # httpx unzipped it
    assert int(response.headers["content-length"]) == len(current.gzipped) < MAX_GZIPPED
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["etag"] == f'"{current.version}-gzip"'
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "set-cookie" not in response.headers


async def test_a_tag_without_the_current_version_is_cached_an_hour(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/snippet.js", "/snippet.js?v=0123456789abcdef"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=3600"


async def test_a_client_without_gzip_gets_the_plain_script(client: httpx.AsyncClient) -> None:
    for accept in ("identity", "gzip;q=0, identity", "br"):
        response = await client.get("/snippet.js", headers={"Accept-Encoding": accept})
        assert "content-encoding" not in response.headers, accept
        assert response.content == SCRIPT.read_bytes()
        assert response.headers["etag"] == f'"{snippet_script().version}"'


async def test_a_cached_snippet_is_revalidated_with_its_etag(client: httpx.AsyncClient) -> None:
    etag = (await client.get("/snippet.js")).headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}'):
        again = await client.get("/snippet.js", headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b"" and again.headers["etag"] == etag
    changed = await client.get("/snippet.js", headers={"If-None-Match": '"an-old-version-gzip"'})
    assert changed.status_code == 200


async def test_the_console_shows_the_tag_to_paste_before_the_end_of_body(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    for language, sentence in (
        ("en", "just before the closing </body> tag."),
        ("es", "justo antes de la etiqueta de cierre </body>."),
    ):
        async with browser(app, language=language) as marketer:
            await sign_in(marketer, mailbox, address)
            response = await marketer.get(f"/console/{brand.slug}")
            assert response.status_code == 200
            # The tag's name is shown as text, never taken for markup.
            assert "<code>&lt;/body&gt;</code>" in response.text
            shown = page_text(response)
            assert sentence in shown.replace("<code>", "").replace("</code>", "")
            tag = (
                f'<script src="http://testserver/snippet.js?v={snippet_script().version}" '
                "async></script>"
            )
            assert tag in shown
            assert 'data-copy="snippet-tag"' in response.text
            assert "script-src" in shown and "http://testserver" in shown
