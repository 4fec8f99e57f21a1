"""Who may do what in the console: the marketer's role on the brand in the address, and
the contest in the address, which must be that brand's."""

from __future__ import annotations

from starlette.requests import Request

from contests import authoring
from contests.brands import marketer_for
from contests.models import Contest, Marketer, MarketerRole
from web.session import require_viewer

VIEWER = MarketerRole.VIEWER
EDITOR = MarketerRole.EDITOR
OWNER = MarketerRole.OWNER


async def role_for(request: Request, needed: MarketerRole) -> Marketer:
    """The signed-in marketer's role on the brand in the address, if it allows ``needed``."""
    return await marketer_for(await require_viewer(request), request.path_params["brand"], needed)


async def contest_for(request: Request, role: Marketer) -> Contest:
    contest_id: int = request.path_params["contest"]
    return await authoring.contest_of_brand(role.brand, contest_id)


def actor(role: Marketer) -> str:
    """How the audit log names the marketer."""
    return role.email
