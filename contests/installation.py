"""The installation check: fetch the brand pages a contest's steps lead to and say
whether the snippet is on each.

Only the brand's own domains are fetched, redirects are followed only within them,
and every connection goes to an address checked just before it is made (so a name
that resolves to a private or loopback address, even after a first public answer, is
refused unless INSTALL_CHECK_ALLOW_PRIVATE says otherwise). Time and size are capped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin

import httpcore

from contests import audit
from contests.brands import url_allowed
from contests.errors import N_
from contests.models import AuditLog, Brand, Contest, Step
from contests.steps.visit import VISIT
from contests.urls import web_address

ACTION = "install.checked"
# The brand pages of one contest fetched at most; more would be a crawler.
MAX_PAGES = 20
MAX_REDIRECTS = 5
USER_AGENT = "Gymkana installation check"


class PageResult(StrEnum):
    FOUND = "found"
    MISSING = "missing"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


# What each result tells the marketer, and what to do.
RESULT_TEXT = {
    PageResult.FOUND: N_("The snippet is installed on this page."),
    PageResult.MISSING: N_(
        "The page answered, but the snippet is not on it: paste the tag before </body>."
    ),
    PageResult.REFUSED: N_(
        "Not fetched: the address (or a redirect) leaves the brand's domains, or its "
        "server is on a private network."
    ),
    PageResult.UNREACHABLE: N_(
        "The page did not answer in time, answered with an error, or is too large."
    ),
}


@dataclass(frozen=True)
class Limits:
    allow_private: bool
    timeout: float
    max_bytes: int


class Refused(Exception):
    """The address may not be fetched."""


def _public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses that pass the check, resolved here and connected to
    by number, so that the name cannot change its answer in between."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore names it so
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        addresses = [str(info[4][0]) for info in found]
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        if not self._allow_private and not all(_public(a) for a in addresses):
            raise Refused(host)
        return await self._inner.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _fetch(
    pool: httpcore.AsyncConnectionPool, brand: Brand, url: str, marker: str, limits: Limits
) -> PageResult:
    timeouts = {"connect": limits.timeout, "read": limits.timeout, "pool": limits.timeout}
    for _ in range(MAX_REDIRECTS + 1):
        if not url_allowed(brand, url):
            return PageResult.REFUSED
        try:
            async with asyncio.timeout(limits.timeout * 2):
                async with pool.stream(
                    "GET",
                    url,
                    headers={"User-Agent": USER_AGENT, "Accept": "text/html"},
                    extensions={"timeout": timeouts},
                ) as response:
                    if 300 <= response.status < 400:
                        location = dict((k.lower(), v) for k, v in response.headers).get(
                            b"location", b""
                        )
                        url = urljoin(url, location.decode("latin-1"))
                        continue
                    if response.status >= 400:
                        return PageResult.UNREACHABLE
                    body = bytearray()
                    async for chunk in response.aiter_stream():
                        body.extend(chunk)
                        if len(body) > limits.max_bytes:
                            return PageResult.UNREACHABLE
        except Refused:
            return PageResult.REFUSED
        except (
            httpcore.TimeoutException,
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.UnsupportedProtocol,
            TimeoutError,
            ssl.SSLError,
            OSError,
        ):
            return PageResult.UNREACHABLE
        found = marker.encode() in body
        return PageResult.FOUND if found else PageResult.MISSING
    return PageResult.REFUSED


async def pages_of(contest: Contest) -> list[str]:
    """The brand pages the contest's visit steps lead to, in step order, once each."""
    steps = await Step.filter(contest=contest, kind=VISIT.name).order_by("position", "id")
    pages: list[str] = []
    for step in steps:
        target = str((step.config or {}).get("target_url") or "")
        address = web_address(target)
        if address is not None and target not in pages:
            pages.append(target)
    return pages[:MAX_PAGES]


async def check_installation(
    contest_id: int, *, marker: str, limits: Limits, now: datetime
) -> dict[str, str] | None:
    """Fetch the contest's brand pages, record what each said in the audit log (where
    the console reads it) and return it; None when the contest is gone."""
    contest = await Contest.filter(id=contest_id).select_related("brand").first()
    if contest is None:
        return None
    pool = httpcore.AsyncConnectionPool(
        network_backend=CheckedBackend(limits.allow_private), max_connections=4, retries=0
    )
    async with pool:
        results = {
            url: (await _fetch(pool, contest.brand, url, marker, limits)).value
            for url in await pages_of(contest)
        }
    await audit.record(
        actor="installation check",
        action=ACTION,
        brand=contest.brand,
        target=contest.slug,
        now=now,
        **results,
    )
    return results


async def latest(contest: Contest) -> AuditLog | None:
    """The contest's last installation check, if any."""
    return (
        await AuditLog.filter(brand_id=contest.brand_id, action=ACTION, target=contest.slug)  # type: ignore[attr-defined]
        .order_by("-id")
        .first()
    )
