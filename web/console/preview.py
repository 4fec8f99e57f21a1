"""A draft seen as a participant will see it, in either language: a signed link that
opens only for the brand's own marketers, since a draft is nobody else's to read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import rules
from contests.brands import marketer_for
from contests.consent import must_accept_again
from contests.content import localize
from contests.errors import N_, NotFound
from contests.models import Contest
from web.console.access import VIEWER, contest_for, role_for
from web.participant.contest_page import render_contest
from web.rendering import page, path, redirect
from web.session import request_locale, require_viewer, show_asked_language
from web.state import app_state

PURPOSE = "preview"
# A week: long enough to pass the link to a colleague, short enough to go stale.
MAX_AGE = 7 * 24 * 3600


async def preview_link(request: Request) -> Response:
    """From the console to the signed preview, in the language asked for (``?lang=``)."""
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    token = app_state(request).tokens.sign(PURPOSE, {"c": contest.id})
    language = request.query_params.get("lang", "")
    suffix = f"?lang={language}" if language in ("es", "en") else ""
    return redirect(path(request, "contest_preview", token=token) + suffix)


async def _previewed(request: Request) -> Contest:
    """The contest the link names, once the reader is shown to be one of its marketers."""
    payload = app_state(request).tokens.read(PURPOSE, request.path_params["token"], MAX_AGE)
    contest_id = payload.get("c")
    contest = (
        await Contest.filter(id=contest_id).select_related("brand").first()
        if isinstance(contest_id, int)
        else None
    )
    if contest is None:
        raise NotFound(N_("This contest no longer exists."), "contest_not_found")
    await marketer_for(await require_viewer(request), contest.brand.slug, VIEWER)
    return contest


async def contest_preview(request: Request) -> Response:
    contest = await _previewed(request)
    show_asked_language(request)
    return await render_contest(request, contest, None, preview_token=request.path_params["token"])


async def rules_preview(request: Request) -> Response:
    contest = await _previewed(request)
    show_asked_language(request)
    locale = request_locale(request)
    localize(contest, [], [], locale)
    version = await rules.current(contest)
    texts = rules.text_in(version, locale, contest.language) if version else None
    if texts is None:
        texts = rules.template(contest, contest.brand).get(locale) or {}
    return await page(
        request,
        "participant/rules.html",
        contest=contest,
        texts=texts,
        version=version.version if version else 1,
        back=path(request, "contest_preview", token=request.path_params["token"])
        + f"?lang={locale}",
        entry=None,
        must_accept_again=must_accept_again,
    )


routes = [
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/preview",
        preview_link,
        name="console_preview",
    ),
    Route("/preview/{token}", contest_preview, name="contest_preview"),
    Route("/preview/{token}/rules", rules_preview, name="contest_rules_preview"),
]
