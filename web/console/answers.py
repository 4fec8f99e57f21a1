"""Listening: every opinion answer of a contest, by step, searchable a page at a time,
and a marketer's personal reply to one participant."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import answers, jobs, wall
from contests.clock import utcnow
from contests.errors import N_, InvalidInput
from contests.models import Step
from contests.text import SEARCH_MAX, search_words
from web import forms
from web.console.access import EDITOR, VIEWER, contest_for, role_for
from web.links import links
from web.queue import enqueue
from web.rendering import local_path, page, path, redirect
from web.session import answer_at, checked_form, flash


def _row_id(raw: str | None, field: str) -> int | None:
    """An optional id from the address; anything else is a mistake the reader can fix."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 0 < int(raw) <= forms.LARGEST:
        raise InvalidInput(
            N_("The address has a wrong “%(field)s”: go back to the list and follow its links."),
            "bad_parameter",
            field=field,
        )
    return int(raw)


def _address(here: str, params: dict[str, str]) -> str:
    return here + ("?" + urlencode(params) if params else "")


async def answers_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    params = request.query_params
    steps = await Step.filter(contest=contest, kind="opinion").order_by("position", "id")
    step_id = _row_id(params.get("step"), "step")
    if step_id is not None and step_id not in {step.id for step in steps}:
        step_id = None
    search = search_words(params.get("q", "")[: SEARCH_MAX * 4])
    waiting_only = params.get("waiting") == "1"
    before = _row_id(params.get("before"), "before")
    # One more than a page tells whether there is a next one.
    rows = await answers.opinion_answers(
        contest.id,
        step_id=step_id,
        search=search,
        waiting_only=waiting_only,
        before=before,
        limit=answers.PAGE_SIZE + 1,
    )
    more = len(rows) > answers.PAGE_SIZE
    rows = rows[: answers.PAGE_SIZE]
    filters = {
        key: value
        for key, value in (
            ("step", str(step_id or "")),
            ("q", search),
            ("waiting", "1" if waiting_only else ""),
        )
        if value
    }
    here = path(request, "console_answers", brand=role.brand.slug, contest=contest.id)
    return await page(
        request,
        "console/answers.html",
        brand=role.brand,
        contest=contest,
        role=role,
        can_reply=role.role.allows(EDITOR),
        steps=steps,
        tallies=await answers.tallies(contest.id),
        rows=rows,
        step_id=step_id,
        search=search,
        waiting_only=waiting_only,
        this_page=_address(here, {**filters, **({"before": str(before)} if before else {})}),
        first_page=_address(here, filters),
        next_page=_address(here, {**filters, "before": str(rows[-1].id)}) if more else "",
        reply_max=answers.REPLY_MAX,
    )


def _back_to_answer(request: Request, form: FormData, listing: str, answer_id: int) -> str:
    """Back to the same page of the list, at the answer just acted on (a refusal too)."""
    page_path = local_path(forms.text(form, "back", 500), listing)
    if not page_path.startswith(listing):
        page_path = listing
    return answer_at(request, page_path, f"answer-{answer_id}")


async def send_reply(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    answer_id: int = request.path_params["answer"]
    listing = path(request, "console_answers", brand=role.brand.slug, contest=contest.id)
    form = await checked_form(request)
    back = _back_to_answer(request, form, listing, answer_id)
    answer, message = await answers.reply(
        role,
        answer_id,
        forms.text(form, "reply", answers.REPLY_MAX * 2, multiline=True),
        now=utcnow(),
        links=links(request),
        contest_id=contest.id,
    )
    if message is not None:
        await enqueue(request, jobs.SEND_EMAIL, message.id)
        flash(
            request,
            N_("Reply sent to %(name)s, signed “%(signed)s”."),
            "success",
            target=f"answer-{answer.id}",
            name=message.to_name or message.to_email,
            signed=answer.replied_by_name,
        )
    else:
        flash(
            request,
            N_("Reply saved. This participant has no email address, so it is only on the site."),
            "success",
            target=f"answer-{answer.id}",
        )
    return redirect(back)


async def wall_choice(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    answer_id: int = request.path_params["answer"]
    listing = path(request, "console_answers", brand=role.brand.slug, contest=contest.id)
    form = await checked_form(request)
    page_path = local_path(forms.text(form, "back", 500), listing)
    back = answer_at(
        request, page_path if page_path.startswith(listing) else listing, f"answer-{answer_id}"
    )
    shown = forms.checkbox(form, "shown")
    await wall.show(role, contest, answer_id, shown, now=utcnow())
    if shown:
        flash(
            request, N_("It is on the contest's wall now."), "success", target=f"answer-{answer_id}"
        )
    else:
        flash(request, N_("It is off the wall."), "success", target=f"answer-{answer_id}")
    return redirect(back)


routes = [
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/answers",
        answers_page,
        name="console_answers",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/answers/{answer:rowid}/reply",
        send_reply,
        methods=["POST"],
        name="console_reply",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/answers/{answer:rowid}/wall",
        wall_choice,
        methods=["POST"],
        name="console_wall",
    ),
]
