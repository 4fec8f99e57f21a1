"""The brand's audit log in the console: readable, filterable, a page at a time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import audit
from contests.brands import team
from contests.models import Contest
from contests.zones import zone_names
from web.console.access import VIEWER, role_for
from web.rendering import page


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    # Anything that is not a row id starts from the newest entry.
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


async def audit_log(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    query = request.query_params
    filters = audit.Filters(
        action=query.get("action", "")[:60],
        actor=query.get("actor", "")[:254],
        target=query.get("contest", "")[:80],
    )
    entries = await audit.page_of(role.brand, filters, before=_before(request))
    return await page(
        request,
        "console/audit.html",
        brand=role.brand,
        role=role,
        entries=entries,
        filters=filters,
        actions=audit.ACTIONS,
        changes=audit.changes,
        members=await team(role.brand),
        contests=await Contest.filter(brand=role.brand)
        .order_by("-id")
        .limit(200)
        .values_list("slug", "title"),
        more=len(entries) == audit.PAGE_SIZE,
        zones=zone_names(),
    )


routes = [Route("/console/{brand:slug}/audit", audit_log, name="console_audit")]
