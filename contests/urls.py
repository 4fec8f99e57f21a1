"""Web addresses and host names, read the way a browser reads them, or not at all.

Python's ``urlsplit`` and a browser disagree on some addresses. A browser reads
``http://evil.example\\.shop.example.com/`` as a page of ``evil.example`` (to it a
backslash is a slash) where ``urlsplit`` calls the whole thing the host; a browser maps
full-width letters and dots in a host to ASCII; and ``urlsplit`` raises ValueError on an
unclosed ``[`` or on some full-width characters. So an address is taken only when both
would read it alike: http or https, no backslash, no user name or password, no control,
space or invisible character, and a host that is a valid domain name (checked and
normalised with IDNA) or an IPv4 address written plainly. Anything else is None: an
address we cannot be sure of is one we do not allow, and never an exception.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlsplit

import idna

# Longer than any page address a brand would use; a bound on the work done for one.
MAX_URL = 2000
MAX_HOST = 253
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# A browser reads a host whose last label is a number as an IPv4 address, in forms such
# as 0x7f.1 that ipaddress does not know: only the plain dotted form is taken.
_NUMERIC = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")


@dataclass(frozen=True)
class WebAddress:
    """An http(s) address as a browser would read it."""

    scheme: str
    host: str  # lower-case ASCII (IDNA A-labels), without a trailing dot
    port: int | None


def web_address(value: str) -> WebAddress | None:
    """The address if it is one a browser and this code read alike; None otherwise."""
    if len(value) > MAX_URL or "\\" in value:
        return None
    # isprintable() is False for control, format (bidi, zero-width), surrogate and
    # separator characters; spaces and tabs are removed or refused by browsers.
    if not value.isprintable() or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    # A browser decodes %-escapes in a host; userinfo only ever serves to disguise one.
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or "%" in parts.netloc:
        return None
    host = domain_name(parts.hostname or "")
    if host is None:
        return None
    return WebAddress(parts.scheme, host, port)


def host_of(value: str | None) -> str | None:
    """The host of an address, an ``Origin`` header for one; None if it cannot be read."""
    if not value:
        return None
    address = web_address(value)
    return address.host if address else None


@lru_cache(maxsize=4096)
def domain_name(value: str) -> str | None:
    """A host name normalised (lower case, IDNA A-labels, no trailing dot), or None.

    Labels follow the rules for host names: letters, digits and inner hyphens, 1 to 63
    characters, 253 in all; so no wildcard, underscore, space or control character.
    """
    host = value[:-1] if value.endswith(".") else value
    if not host or len(host) > MAX_HOST * 4:
        return None
    if host.isascii():
        host = host.lower()
        if not all(_plain_label(label) for label in host.split(".")):
            host = _idna(host) or ""
    else:
        host = _idna(host) or ""
    if not host or len(host) > MAX_HOST:
        return None
    last = host.rsplit(".", 1)[-1]
    if _NUMERIC.fullmatch(last):
        return host if _plain_ipv4(host) else None
    return host


def _plain_label(label: str) -> bool:
    # Labels with "--" in third and fourth place (xn--...) go through IDNA's checks.
    return _LABEL.fullmatch(label) is not None and label[2:4] != "--"


def _idna(host: str) -> str | None:
    """The host in A-labels after the mapping browsers apply (UTS #46), or None."""
    try:
        encoded = idna.encode(host, uts46=True, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    name = encoded.decode("ascii")
    return name if all(_LABEL.fullmatch(label) for label in name.split(".")) else None


def _plain_ipv4(host: str) -> bool:
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False


def same_page(target: str, page: str, *, section: bool = False, ignore: str = "") -> bool:
    """True when ``page`` is the page ``target`` names or, for a ``section``, any page
    under its path.

    Compared as a person means an address, not byte for byte: the scheme does not count
    (a site moves to https), nor a leading ``www.`` or the scheme's default port; the
    path is taken with its %-escapes decoded, its dot segments resolved and without a
    trailing slash; the fragment never counts. The query counts only when the target has
    one: each of its parameters must then be on the page with the same value, which may
    carry more (a campaign tag, say). A parameter named ``ignore`` is left out of both.
    Under a section, ``/menu`` holds ``/menu/`` and ``/menu/drinks`` but not ``/menus``.
    """
    want, got = _page(target, ignore), _page(page, ignore)
    if want is None or got is None or want[0] != got[0]:
        return False
    want_path, got_path = want[1], got[1]
    if got_path != want_path and not (section and got_path.startswith(want_path + "/")):
        return False
    return want[2] <= got[2]


_DEFAULT_PORTS = {"http": 80, "https": 443}
# What same_page compares: (host, port), path, query pairs.
_Page = tuple[tuple[str, int | None], str, set[tuple[str, str]]]


def _page(value: str, ignore: str) -> _Page | None:
    """An address reduced to what ``same_page`` compares: site, path and query pairs."""
    address = web_address(value)
    if address is None:
        return None
    parts = urlsplit(value)
    host = address.host.removeprefix("www.")
    port = None if address.port == _DEFAULT_PORTS[address.scheme] else address.port
    # normpath keeps a leading "//" (a POSIX rule): for a web path it is one slash. The
    # site's root is "" so that every path under it starts with "/".
    path = posixpath.normpath("/" + unquote(parts.path)).strip("/")
    query = {(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != ignore}
    return (host, port), "/" + path if path else "", query
