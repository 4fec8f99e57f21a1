"""The brand site's snippet: the script itself, what its overlay says and where a visit
stands. (The beacon it posts when a visit has lasted long enough is answered ahead of
the app's routes: ``web.snippet.beacon``.)"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests.brands import host_allowed
from contests.clock import utcnow
from contests.i18n import gettext_, ngettext_, use_locale
from contests.models import Brand
from contests.steps import visit_reports
from contests.steps.visit_reports import VisitState, VisitStatus
from contests.urls import host_of
from web.links import absolute
from web.ratelimit import rate_limit
from web.snippet.cors import allow_origin
from web.state import app_state

SCRIPT = Path(__file__).resolve().parent / "gymkana.js"
# The address that names the current version may be kept a year; any other (a tag
# pasted before an upgrade) an hour, so that pages pick up a new script soon.
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=3600"


@dataclass(frozen=True)
class Script:
    plain: bytes
    gzipped: bytes
    version: str


@lru_cache(maxsize=1)
def snippet_script() -> Script:
    """The script, compressed once, and its version: a digest of its bytes."""
    plain = SCRIPT.read_bytes()
    return Script(
        plain=plain,
        gzipped=gzip.compress(plain, compresslevel=9, mtime=0),
        version=hashlib.sha256(plain).hexdigest()[:16],
    )


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


async def script(request: Request) -> Response:
    current = snippet_script()
    gzipped = _accepts_gzip(request.headers.get("accept-encoding", ""))
    # One ETag per encoding: caches must not hand gzip to a client that did not ask.
    etag = f'"{current.version}{"-gzip" if gzipped else ""}"'
    named = request.query_params.get("v") == current.version
    headers = {
        "ETag": etag,
        "Cache-Control": LONG_CACHE if named else SHORT_CACHE,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        # Brand pages that require it (COEP) may load the script from another origin.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(
        current.gzipped if gzipped else current.plain,
        media_type="text/javascript; charset=utf-8",
        headers=headers,
    )


def snippet_tag(request: Request) -> str:
    """The tag a marketer pastes into the brand's pages."""
    src = absolute(request, "snippet") + "?v=" + snippet_script().version
    return f'<script src="{src}" async></script>'


def _let_brand_read(request: Request, brand: Brand) -> None:
    """Only the brand's own pages may read our answers."""
    origin = request.headers.get("origin")
    if origin and host_allowed(brand, host_of(origin)):
        allow_origin(request, origin)


def _state_message(status: VisitStatus) -> str:
    """What the overlay says about where the visit stands, in the current language."""
    if status.state is VisitState.COUNTED:
        return ngettext_(
            "It counted! %(done)s of %(num)s step done.",
            "It counted! %(done)s of %(num)s steps done.",
            status.total,
            done=status.done,
        )
    if status.state is VisitState.PENDING:
        return gettext_("Done! Your visit is being checked.")
    if status.state is VisitState.REJECTED:
        return gettext_("This visit did not count. Go back to the contest and try again.")
    return ""


def _status_body(status: VisitStatus) -> dict[str, Any]:
    with use_locale(status.locale):
        return {
            "state": status.state.value,
            "message": _state_message(status),
            "progress": ngettext_(
                "%(done)s of %(num)s step done",
                "%(done)s of %(num)s steps done",
                status.total,
                done=status.done,
            ),
        }


async def visit_info(request: Request) -> Response:
    """What the overlay on the brand page says: which step was found, in whose language,
    and whether this page is one where the visit counts."""
    state = app_state(request)
    token: str = request.path_params["token"]
    await rate_limit(request, state.settings.visit_status_limit, "visit-info", token[-24:])
    info = await visit_reports.describe_visit(
        state.tokens,
        token,
        page_url=request.query_params.get("page", ""),
        now=utcnow(),
    )
    status, settings = info.status, info.settings
    with use_locale(status.locale):
        body = {
            "lang": status.locale,
            "step": {"number": info.number, "total": status.total, "title": info.step.title},
            "done": status.done,
            "total": status.total,
            "dwell_seconds": settings.dwell_seconds,
            "proof": settings.proof,
            "here": info.here,
            "expires_in": info.expires_in,
            "page_url": settings.target_url,
            "contest": {
                "title": info.contest.title,
                "url": absolute(request, "contest", slug=info.contest.slug),
            },
            **_status_body(status),
            "text": {
                "found": gettext_(
                    "Step %(number)s of %(total)s found!", number=info.number, total=status.total
                ),
                "stay": ngettext_(
                    "Stay on this page %(num)s second so it counts.",
                    "Stay on this page %(num)s seconds so it counts.",
                    settings.dwell_seconds,
                ),
                "elsewhere": gettext_("This visit counts on the step's own page."),
                "go": gettext_("Go to the step's page"),
                "sent": gettext_("Done! Your visit is being checked."),
                "failed": gettext_(
                    "We could not record this visit. Go back to the contest and try again."
                ),
                "time": gettext_("Time on this page"),
                "region": gettext_("Your progress in %(contest)s", contest=info.contest.title),
                "back": gettext_("Back to the contest"),
                "close": gettext_("Close"),
            },
        }
    _let_brand_read(request, info.contest.brand)
    return JSONResponse(body)


async def visit_status(request: Request) -> Response:
    """Where the visit stands, for the overlay to say when it counted."""
    state = app_state(request)
    token: str = request.path_params["token"]
    await rate_limit(request, state.settings.visit_status_limit, "visit-status", token[-24:])
    status, brand = await visit_reports.visit_status(state.tokens, token)
    _let_brand_read(request, brand)
    return JSONResponse(_status_body(status))


routes = [
    Route("/snippet.js", script, name="snippet"),
    Route("/api/visits/{token}", visit_info, name="visit_info"),
    Route("/api/visits/{token}/status", visit_status, name="visit_status"),
]
