"""The brand's list of participants who asked to hear from it after its contests, and
its download as CSV (streamed, audited)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from contests import optin
from contests.clock import utcnow
from web.console.access import EDITOR, VIEWER, role_for
from web.rendering import page, path
from web.session import checked_form


async def opt_ins_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    return await page(
        request,
        "console/opt_ins.html",
        brand=role.brand,
        size=await optin.list_size(role.brand),
        can_export=role.role.allows(EDITOR),
    )


async def export(request: Request) -> Response:
    """A POST, not a link: each download of personal data goes in the audit log."""
    role = await role_for(request, EDITOR)
    request.state.back = path(request, "console_opt_ins", brand=role.brand.slug)
    await checked_form(request)
    rows = await optin.export_csv(role, now=utcnow())
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{role.brand.slug}-opted-in.csv"',
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route("/console/{brand:slug}/opt-ins", opt_ins_page, name="console_opt_ins"),
    Route(
        "/console/{brand:slug}/opt-ins.csv", export, methods=["POST"], name="console_export_opt_ins"
    ),
]
