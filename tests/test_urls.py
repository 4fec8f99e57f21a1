"""Addresses and domains are read the way a browser reads them, or refused; reading one
never raises. Examples first, then properties that Hypothesis tries on many inputs."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contests.brands import clean_domain, host_allowed, url_allowed
from contests.errors import InvalidInput
from contests.models import Brand
from contests.urls import domain_name, host_of, same_page, web_address

SITE = "shop.example.com"
BRAND = Brand(site_domains=[SITE])
CONTROL = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
# What makes an address awkward: separators, brackets, escapes, lookalikes of "." and
# "/" from other scripts, invisible and direction characters.
AWKWARD = [
    *"/\\@:[]%#?.-_*~ ",
    *"\uff0e\u3002\uff0f\uff03\uff1a\uff20\u2024\ufe52",
    *"\u200b\u200d\u202e\u2066\ufeff\ufffd",
    *CONTROL[:3],
    "\t",
    "\n",
]
LABEL = st.text(alphabet="abcxyz019-", min_size=1, max_size=8)
HOSTLIKE = st.lists(
    st.one_of(LABEL, st.sampled_from([SITE, "evil.example", "EXAMPLE", "xn--bcher-kva"])),
    min_size=1,
    max_size=5,
).map(".".join)
URLISH = st.builds(
    lambda scheme, parts: f"{scheme}{''.join(parts)}",
    st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "javascript://", "//", ""]),
    st.lists(st.one_of(HOSTLIKE, st.sampled_from(AWKWARD), st.text(max_size=3)), max_size=8),
)
PROPERTIES = settings(max_examples=400, deadline=None)


@pytest.mark.parametrize(
    "url",
    [
        f"http://evil.example\\.{SITE}/",
        f"https://evil.example\\@{SITE}/",
        f"https://{SITE}@evil.example/",
        f"https://user:pass@{SITE}/",
        f"https://{SITE}%2eevil.example/",
        f"http://[{SITE}/",
        f"https://{SITE}\uff0f@evil.example/",
        f"https://{SITE}:99999/",
        f"https://{SITE}:port/",
        "https://sh\u200bop.example.com/",
        f"https://{SITE}/\x00",
        f"https://{SITE}/a b",
        f"javascript://{SITE}/%0aalert(1)",
        f"ftp://{SITE}/",
        f"//{SITE}/",
        "http://0x7f.1/",
        "null",
        "",
    ],
)
def test_an_address_a_browser_may_read_otherwise_is_refused(url: str) -> None:
    assert web_address(url) is None
    assert not url_allowed(BRAND, url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        (f"https://{SITE}/origins?ref=contest", SITE),
        ("HTTPS://WWW.Shop.Example.COM.:443/x", f"www.{SITE}"),
        ("https://shop\uff0eexample\u3002com/", SITE),
        ("https://bücher.example/", "xn--bcher-kva.example"),
        ("http://127.0.0.1:8001/es/", "127.0.0.1"),
    ],
)
def test_an_address_is_read_with_its_host_normalised(url: str, host: str) -> None:
    address = web_address(url)
    assert address is not None and address.host == host


@pytest.mark.parametrize(
    "domain",
    [
        "*." + SITE,
        "a" * 300 + ".example.com",
        "a" * 64 + ".example.com",
        "shop\x00.example.com",
        "shop .example.com",
        "shop_1.example.com",
        "-shop.example.com",
        "shop..example.com",
        "xn--zz.example",
        "example.123",
        "shop.example.com/path",
        "http://[shop.example.com/",
        "com",
        "",
    ],
)
def test_a_domain_that_is_not_a_host_name_is_refused(domain: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_domain(domain)
    assert len(refused.value.params["domain"]) <= 61


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Shop.Example.COM", SITE),
        (f"https://{SITE}/origins", SITE),
        (f".{SITE}/", SITE),
        ("bücher.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_a_domain_is_kept_as_a_browser_names_it(typed: str, kept: str) -> None:
    assert clean_domain(typed) == kept


def test_a_brand_allows_its_domains_and_their_subdomains_only() -> None:
    assert host_allowed(BRAND, SITE) and host_allowed(BRAND, "WWW.shop.example.com.")
    for host in ("evil.example", f"{SITE}.evil.example", f"evil{SITE}", None, "", "[::1]"):
        assert not host_allowed(BRAND, host)


@PROPERTIES
@given(URLISH)
def test_any_address_the_brand_allows_is_on_its_site(url: str) -> None:
    if not url_allowed(BRAND, url):
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert "@" not in parts.netloc and "\\" not in url
    host = domain_name(parts.hostname or "")
    assert host is not None and (host == SITE or host.endswith("." + SITE))


@PROPERTIES
@given(st.one_of(URLISH, st.text(max_size=60)), st.sampled_from(["\\", *CONTROL]), st.data())
def test_no_address_with_a_backslash_or_a_control_character_is_read(
    url: str, bad: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(url)))
    spoiled = url[:at] + bad + url[at:]
    assert web_address(spoiled) is None
    assert host_of(spoiled) is None
    assert not url_allowed(BRAND, spoiled)


@PROPERTIES
@given(st.one_of(URLISH, st.text()))
def test_reading_an_address_never_raises(url: str) -> None:
    web_address(url)
    host_of(url)
    url_allowed(BRAND, url)


@PROPERTIES
@given(st.one_of(HOSTLIKE, st.text(max_size=40), URLISH))
def test_a_domain_is_normalised_once_and_for_all(value: str) -> None:
    name = domain_name(value)
    if name is None:
        return
    assert name.isascii() and name == name.lower() and len(name) <= 253
    assert all(0 < len(label) <= 63 for label in name.split("."))
    assert domain_name(name) == name


@PROPERTIES
@given(st.one_of(HOSTLIKE, st.text(max_size=40), URLISH))
def test_a_kept_domain_is_one_a_browser_can_name(value: str) -> None:
    try:
        kept = clean_domain(value)
    except InvalidInput:
        return
    assert domain_name(kept) == kept
    assert "." in kept or kept == "localhost"


PAGE = f"https://{SITE}/origins"


@pytest.mark.parametrize(
    "page",
    [
        PAGE,
        f"http://{SITE}/origins",
        f"https://WWW.{SITE}/origins",
        f"https://{SITE}:443/origins",
        f"https://{SITE}/origins/",
        f"https://{SITE}/origins#farms",
        f"https://{SITE}/origins?utm_source=newsletter",
        f"https://{SITE}/%6Frigins",
        f"https://{SITE}/menu/../origins",
    ],
)
def test_the_same_page_is_known_whatever_its_scheme_www_slash_query_or_fragment(
    page: str,
) -> None:
    assert same_page(PAGE, page)


@pytest.mark.parametrize(
    "page",
    [
        f"https://{SITE}/",
        f"https://{SITE}/origins/farms",
        f"https://{SITE}/originsx",
        f"https://{SITE}/Origins",
        f"https://{SITE}:8443/origins",
        f"https://blog.{SITE}/origins",
        "https://evil.example/origins",
        f"https://evil.example\\.{SITE}/origins",
        "not an address",
        "",
    ],
)
def test_another_page_is_not_the_steps_page(page: str) -> None:
    assert not same_page(PAGE, page)


def test_a_section_holds_the_pages_under_its_path_only() -> None:
    section = f"https://{SITE}/menu/"
    for page in (f"https://{SITE}/menu", f"https://{SITE}/menu/drinks", f"http://{SITE}/menu/a/b"):
        assert same_page(section, page, section=True)
    for page in (f"https://{SITE}/menus", f"https://{SITE}/", f"https://{SITE}/shop/menu"):
        assert not same_page(section, page, section=True)
    assert same_page(f"https://{SITE}", f"https://{SITE}/anything", section=True)


def test_a_query_on_the_steps_page_must_be_on_the_page_reported() -> None:
    target = f"https://{SITE}/product?id=42&lang=en"
    assert same_page(target, f"https://{SITE}/product?lang=en&id=42&utm=x")
    assert not same_page(target, f"https://{SITE}/product?id=42")
    assert not same_page(target, f"https://{SITE}/product?id=43&lang=en")
    assert not same_page(target, f"https://{SITE}/product")
    # The visit token's own parameter is not part of the page.
    assert same_page(f"{PAGE}?gk=a", PAGE, ignore="gk")


@PROPERTIES
@given(st.one_of(URLISH, st.text()), st.one_of(URLISH, st.text()), st.booleans())
def test_comparing_pages_never_raises_and_a_page_is_itself(
    target: str, page: str, section: bool
) -> None:
    same_page(target, page, section=section)
    assert same_page(page, page, section=section) == (web_address(page) is not None)
    if same_page(target, page, section=section):
        assert host_of(target) is not None and host_of(page) is not None
        assert host_of(target).removeprefix("www.") == host_of(page).removeprefix("www.")  # type: ignore[union-attr]
