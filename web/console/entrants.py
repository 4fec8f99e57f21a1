"""The console's entrants of a contest: a filtered list a page at a time, and its export
as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from contests import audit, entrants
from contests.clock import utcnow
from contests.eligibility import country_names
from contests.entrants import EntrantFilter, EntrantRow
from contests.errors import N_, InvalidInput
from contests.i18n import translate
from contests.models import Contest, Step
from contests.queries import ids
from contests.signals import LABELS as FLAG_LABELS
from contests.text import check_text
from web.console.access import EDITOR, VIEWER, actor, contest_for, role_for
from web.forms import LARGEST
from web.rendering import page, path
from web.session import checked_form, request_locale

CHOICES = {"": None, "yes": True, "no": False}


def _text(values: Mapping[str, Any], name: str, max_length: int) -> str:
    value = values.get(name, "")
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidInput(
            N_("“%(field)s” is too long (at most %(max)s characters)."),
            "too_long",
            field=name,
            max=max_length,
        )
    return check_text(value, name).strip()


def _choice(values: Mapping[str, Any], name: str) -> bool | None:
    value = _text(values, name, 8)
    if value not in CHOICES:
        raise InvalidInput(
            N_("Choose one of the options of “%(field)s”."), "bad_choice", field=name
        )
    return CHOICES[value]


def _entry_id(values: Mapping[str, Any], name: str) -> int | None:
    value = _text(values, name, 12)
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= LARGEST:
        raise InvalidInput(
            N_("This page of the list does not exist. Start again from the first page."),
            "bad_cursor",
        )
    return int(value)


async def _filters(values: Mapping[str, Any], contest: Contest) -> EntrantFilter:
    step = _entry_id(values, "step")
    if step is not None and step not in await ids(Step.filter(contest=contest)):
        raise InvalidInput(N_("That step is not in this contest."), "step_not_found")
    country = _text(values, "country", 2).upper()
    if country and country not in contest.countries:
        raise InvalidInput(
            N_("Choose one of the countries this contest admits."), "country_not_admitted"
        )
    return EntrantFilter(
        search=_text(values, "q", entrants.SEARCH_LENGTH),
        step=step,
        flagged=_choice(values, "flagged"),
        eligible=_choice(values, "eligible"),
        country=country,
    )


def _query(filters: EntrantFilter, **cursor: int) -> dict[str, str]:
    """The list's address parameters: its filters (only those set) and a cursor."""
    choice = {True: "yes", False: "no"}
    fields = {
        "q": filters.search,
        "step": str(filters.step) if filters.step is not None else "",
        "flagged": choice[filters.flagged] if filters.flagged is not None else "",
        "eligible": choice[filters.eligible] if filters.eligible is not None else "",
        "country": filters.country,
        **{name: str(value) for name, value in cursor.items()},
    }
    return {name: value for name, value in fields.items() if value}


async def entrants_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    filters = await _filters(request.query_params, contest)
    found = await entrants.page(
        contest.id,
        filters,
        older_than=_entry_id(request.query_params, "older"),
        newer_than=_entry_id(request.query_params, "newer"),
    )
    here = path(request, "console_entrants", brand=role.brand.slug, contest=contest.id)

    def link(**cursor: int) -> str:
        return f"{here}?{urlencode(_query(filters, **cursor))}"

    return await page(
        request,
        "console/entrants.html",
        brand=role.brand,
        contest=contest,
        found=found,
        filters=filters,
        steps=await Step.filter(contest=contest).order_by("position", "id"),
        flag_labels=FLAG_LABELS,
        # Only a contest that admits some countries asks entrants for theirs.
        countries={
            code: name
            for code, name in country_names(request_locale(request)).items()
            if code in contest.countries
        },
        newer_link=link(newer=found.newer_than) if found.newer_than else "",
        older_link=link(older=found.older_than) if found.older_than else "",
        export_fields=_query(filters),
        can_export=role.role.allows(EDITOR),
    )


# A cell that starts with one of these is read as a formula by spreadsheets, which
# could then run what a participant typed as their name: such cells get a leading
# apostrophe, which spreadsheets show as text (OWASP's advice on CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _cell(value: object) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _csv_line(cells: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(cell) for cell in cells])
    return out.getvalue()


async def _csv(contest_id: int, filters: EntrantFilter, locale: str) -> AsyncIterator[str]:
    def t(message: str) -> str:
        return translate(message, locale)

    names = country_names(locale)

    # The byte order mark tells spreadsheets the file is UTF-8 (names with accents).
    yield "\ufeff" + _csv_line(
        [
            t(N_("Draw id")),
            t(N_("Name")),
            t(N_("Email")),
            t(N_("Entered (UTC)")),
            t(N_("Disqualified")),
            t(N_("Steps done")),
            t(N_("Points")),
            t(N_("Chances")),
            t(N_("In the draw")),
            t(N_("Review")),
            t(N_("Country")),
        ]
    )
    yes, no = t(N_("yes")), t(N_("no"))
    async for batch in entrants.export(contest_id, filters):
        out = io.StringIO()
        writer = csv.writer(out)
        row: EntrantRow
        for row in batch:
            writer.writerow(
                [
                    _cell(row.public_id),
                    _cell(row.name),
                    _cell(row.email),
                    row.entered_at.strftime("%Y-%m-%d %H:%M:%S"),
                    yes if row.status.value == "disqualified" else no,
                    row.steps_done,
                    row.points,
                    row.chances,
                    yes if row.eligible else no,
                    _cell(
                        "; ".join(
                            t(FLAG_LABELS[reason]) if reason in FLAG_LABELS else reason  # type: ignore[index]
                            for reason in row.flags
                        )
                    ),
                    names.get(row.country, row.country),
                ]
            )
        yield out.getvalue()


async def export(request: Request) -> Response:
    # Names and email addresses leave the console in a file nobody can take back, so
    # exporting needs the role that may change the contest (editor), not a viewer's,
    # and every export is in the audit log.
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    request.state.back = path(
        request, "console_entrants", brand=role.brand.slug, contest=contest.id
    )
    form = await checked_form(request)
    filters = await _filters(form, contest)
    await audit.record(
        actor=actor(role),
        action="entrants.exported",
        brand=role.brand,
        target=contest.slug,
        now=utcnow(),
        **_query(filters),
    )
    return StreamingResponse(
        _csv(contest.id, filters, request_locale(request)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{contest.slug}-entrants.csv"',
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/entrants",
        entrants_page,
        name="console_entrants",
    ),
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/entrants/export",
        export,
        methods=["POST"],
        name="console_export_entrants",
    ),
]
