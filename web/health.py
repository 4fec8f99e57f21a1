"""The health check load balancers ask."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import connections

from web.state import app_state


async def healthz(request: Request) -> Response:
    """200 when the database and Redis both answer, 503 naming what does not."""
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


routes = [Route("/healthz", healthz, name="healthz")]
