"""Review: the entries the fraud signals flagged, with their reasons; a marketer clears
one or, after a confirmation page, disqualifies it with a reason the participant reads."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import jobs, review, signals
from contests.clock import utcnow
from contests.errors import N_, InvalidInput
from contests.models import Contest, Marketer
from web import forms
from web.console.access import EDITOR, VIEWER, contest_for, role_for
from web.links import links
from web.queue import enqueue
from web.rendering import page, path, redirect
from web.session import checked_form, flash


def _listing(request: Request, role: Marketer, contest: Contest) -> str:
    return path(request, "console_review", brand=role.brand.slug, contest=contest.id)


async def review_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    raw = request.query_params.get("after", "")
    if raw and not (raw.isdigit() and 0 < int(raw) <= forms.LARGEST):
        raise InvalidInput(
            N_("The address has a wrong “%(field)s”: go back to the list and follow its links."),
            "bad_parameter",
            field="after",
        )
    rows = await review.waiting(
        contest.id, after=int(raw) if raw else None, limit=review.PAGE_SIZE + 1
    )
    more = len(rows) > review.PAGE_SIZE
    rows = rows[: review.PAGE_SIZE]
    listing = _listing(request, role, contest)
    return await page(
        request,
        "console/review.html",
        brand=role.brand,
        contest=contest,
        can_decide=role.role.allows(EDITOR),
        rows=rows,
        waiting_count=await review.waiting_count(contest.id),
        decided=await review.decided(contest.id),
        flag_labels=signals.LABELS,
        next_page=f"{listing}?after={rows[-1].entry.id}" if more else "",
        first_page=listing if raw else "",
    )


async def confirm_disqualify(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    flagged = await review.flagged_entry(contest.id, request.path_params["entry"])
    return await page(
        request,
        "console/review_disqualify.html",
        brand=role.brand,
        contest=contest,
        flagged=flagged,
        flag_labels=signals.LABELS,
        reason_max=review.REASON_MAX,
    )


async def disqualify(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    entry_id: int = request.path_params["entry"]
    request.state.back = path(
        request,
        "console_confirm_disqualify",
        brand=role.brand.slug,
        contest=contest.id,
        entry=entry_id,
    )
    form = await checked_form(request)
    _, message = await review.disqualify(
        role,
        contest,
        entry_id,
        forms.text(form, "reason", review.REASON_MAX * 2, multiline=True),
        now=utcnow(),
        links=links(request),
    )
    if message is not None:
        await enqueue(request, jobs.SEND_EMAIL, message.id)
    flash(request, N_("Entry disqualified: the participant has been told why."), "success")
    return redirect(_listing(request, role, contest))


async def clear(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    request.state.back = _listing(request, role, contest)
    form = await checked_form(request)
    await review.clear(
        role,
        contest,
        request.path_params["entry"],
        forms.text(form, "note", review.REASON_MAX * 2, multiline=True),
        now=utcnow(),
    )
    flash(request, N_("Entry cleared: it stays in the contest."), "success")
    return redirect(_listing(request, role, contest))


_ENTRY = "/console/{brand:slug}/contests/{contest:rowid}/review/{entry:rowid}"

routes = [
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/review", review_page, name="console_review"
    ),
    Route(f"{_ENTRY}/disqualify", confirm_disqualify, name="console_confirm_disqualify"),
    Route(f"{_ENTRY}/disqualify", disqualify, methods=["POST"], name="console_disqualify_entry"),
    Route(f"{_ENTRY}/clear", clear, methods=["POST"], name="console_clear"),
]
