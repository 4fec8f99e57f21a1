"""The brand site's snippet: the script itself, what its overlay says, and the beacon
it posts when a visit has lasted long enough."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from contests import jobs
from contests.brands import host_allowed
from contests.clock import utcnow
from contests.errors import N_, InvalidInput
from contests.i18n import translate
from contests.models import Brand
from contests.steps import visit
from contests.urls import host_of
from web.forms import small_json
from web.links import absolute
from web.queue import enqueue
from web.ratelimit import rate_limit
from web.snippet.cors import allow_origin
from web.state import app_state

MAX_BEACON_BYTES = 4096
SCRIPT = Path(__file__).resolve().parent / "gymkana.js"


async def script(request: Request) -> Response:
    return FileResponse(
        SCRIPT,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


def _let_brand_read(request: Request, brand: Brand) -> None:
    """Only the brand's own pages may read our answers."""
    origin = request.headers.get("origin")
    if origin and host_allowed(brand, host_of(origin)):
        allow_origin(request, origin)


async def visit_info(request: Request) -> Response:
    """What the overlay on the brand page says: which step was found, in whose language."""
    info = await visit.describe_visit(app_state(request).tokens, request.path_params["token"])
    locale = info.entry.locale
    body = {
        "step": {"number": info.number, "total": info.total, "title": info.step.title},
        "dwell_seconds": info.dwell_seconds,
        "contest": {
            "title": info.contest.title,
            "url": absolute(request, "contest", slug=info.contest.slug),
        },
        "text": {
            "found": translate(
                "Step %(number)s of %(total)s found!", locale, number=info.number, total=info.total
            ),
            "stay": translate(
                "Stay on this page for %(seconds)s seconds so it counts.",
                locale,
                seconds=info.dwell_seconds,
            ),
            "sent": translate("Done! Your visit is being checked.", locale),
            "failed": translate(
                "We could not record this visit. Go back to the contest and try again.", locale
            ),
            "back": translate("Back to the contest", locale),
            "close": translate("Close", locale),
        },
    }
    _let_brand_read(request, info.contest.brand)
    return JSONResponse(body)


async def beacon(request: Request) -> Response:
    """The snippet reports a visit; a worker verifies it before it counts."""
    state = app_state(request)
    body = await request.body()
    if len(body) > MAX_BEACON_BYTES:
        raise InvalidInput(N_("The report is too large."), "too_large")
    try:
        data = small_json(body)
        token, page_url = str(data["token"]), str(data["page"])
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InvalidInput(
            N_("The report must be JSON with “token” and “page”."), "bad_beacon"
        ) from None
    await rate_limit(request, state.settings.beacon_limit, "beacon", token[-24:])
    evidence, brand = await visit.report_visit(
        state.tokens,
        token,
        origin=request.headers.get("origin"),
        page_url=page_url,
        now=utcnow(),
    )
    await enqueue(request, jobs.VERIFY_EVIDENCE, evidence.id)
    _let_brand_read(request, brand)
    return JSONResponse({"status": "received"}, status_code=202)


routes = [
    Route("/snippet.js", script, name="snippet"),
    Route("/api/visits/{token}", visit_info, name="visit_info"),
    Route("/api/beacon", beacon, methods=["POST"], name="beacon"),
]
