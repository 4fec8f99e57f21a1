"""The JSON API the brand-site snippet talks to, and the health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import connections

from contests import jobs
from contests import steps as step_rules
from contests.brands import host_allowed
from contests.clock import utcnow
from contests.errors import N_, GymkanaError, InvalidInput
from contests.i18n import translate
from contests.models import Brand
from contests.urls import host_of
from web.errors import STATUS
from web.forms import small_json
from web.queue import enqueue
from web.ratelimit import rate_limit
from web.state import app_state

MAX_BEACON_BYTES = 4096


def _cors(response: Response, brand: Brand | None, origin: str | None) -> Response:
    """Only the brand's own pages may read our answers."""
    if brand is not None and origin and host_allowed(brand, host_of(origin)):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(exc: GymkanaError, locale: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": translate(exc.message, locale, **exc.params)}},
        status_code=STATUS.get(exc.kind, 400),
    )


async def visit_info(request: Request) -> Response:
    """What the overlay on the brand page says: which step was found, in whose language."""
    origin = request.headers.get("origin")
    try:
        info = await step_rules.describe_visit(
            app_state(request).tokens, request.path_params["token"]
        )
    except GymkanaError as exc:
        return _error(exc, "es")
    locale = info.entry.locale
    base = app_state(request).settings.base_url
    body = {
        "step": {"number": info.number, "total": info.total, "title": info.step.title},
        "dwell_seconds": info.step.dwell_seconds,
        "contest": {"title": info.contest.title, "url": f"{base}/c/{info.contest.slug}"},
        "text": {
            "found": translate(
                "Step %(number)s of %(total)s found!", locale, number=info.number, total=info.total
            ),
            "stay": translate(
                "Stay on this page for %(seconds)s seconds so it counts.",
                locale,
                seconds=info.step.dwell_seconds,
            ),
            "sent": translate("Done! Your visit is being checked.", locale),
            "failed": translate(
                "We could not record this visit. Go back to the contest and try again.", locale
            ),
            "back": translate("Back to the contest", locale),
            "close": translate("Close", locale),
        },
    }
    return _cors(JSONResponse(body), info.contest.brand, origin)


async def beacon(request: Request) -> Response:
    """The snippet reports a visit; a worker verifies it before it counts."""
    origin = request.headers.get("origin")
    state = app_state(request)
    body = await request.body()
    brand = None
    try:
        if len(body) > MAX_BEACON_BYTES:
            raise InvalidInput(N_("The report is too large."), "too_large")
        try:
            data = small_json(body)
            token, page_url = str(data["token"]), str(data["page"])
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(
                N_("The report must be JSON with “token” and “page”."), "bad_beacon"
            ) from None
        await rate_limit(request, state.settings.beacon_limit, "beacon", token[-24:])
        report, brand = await step_rules.report_visit(
            state.tokens, token, origin=origin, page_url=page_url, now=utcnow()
        )
    except GymkanaError as exc:
        return _cors(_error(exc, "es"), brand, origin)
    await enqueue(request, jobs.VERIFY_VISIT, report.id)
    return _cors(JSONResponse({"status": "received"}, status_code=202), brand, origin)


async def healthz(request: Request) -> Response:
    """For load balancers: 200 when the database and Redis both answer."""
    checks: dict[str, str] = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report whatever failed
        checks["database"] = f"error: {type(exc).__name__}"
    queue = app_state(request).queue
    try:
        if queue is None:
            raise ConnectionError("not connected")
        await queue.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
    )


routes = [
    Route("/api/visits/{token}", visit_info, name="visit_info"),
    Route("/api/beacon", beacon, methods=["POST"], name="beacon"),
    Route("/healthz", healthz, name="healthz"),
]
