"""The contest editor: a contest's words in each language, dates and eligibility, its
prizes, steps, rules and privacy notice, duplicating it, and the irreversible buttons
(publish, close and draw), each asking for a confirmation that works without script.

A form refused for a mistake is shown again with what the marketer typed and the
message beside it, never emptied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import authoring, beacon, closing, content, lifecycle, publishing, rules
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.eligibility import country_names
from contests.errors import N_, Conflict, GymkanaError, InvalidInput, NotFound
from contests.i18n import LOCALE_NAMES, LOCALES, translate
from contests.models import Contest, ContestStatus, Marketer, Prize, Step
from contests.steps.registry import kind_named
from web import forms
from web.console.access import EDITOR, VIEWER, actor, contest_for, role_for
from web.console.routes import contest_page
from web.errors import status_of
from web.rendering import page, path, redirect
from web.session import checked_form, flash, request_locale
from web.state import app_state

CONTEST = "/console/{brand:slug}/contests/{contest:rowid}"
PRIZE = CONTEST + "/prizes/{prize:rowid}"
STEP = CONTEST + "/steps/{step:rowid}"


@cache
def time_zones() -> list[str]:
    """Every zone the machine knows, by name; the contest's start and end are read in it."""
    return sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


def _local(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _back_to(request: Request, role: Marketer, contest: Contest, anchor: str = "") -> str:
    return path(request, "console_contest", brand=role.brand.slug, contest=contest.id) + anchor


def _confirmed(form: FormData) -> None:
    """An irreversible button's box must be ticked: the page asks before it acts."""
    if not forms.checkbox(form, "confirm"):
        raise InvalidInput(
            N_("Tick the box to confirm: this cannot be undone."), "confirmation_required"
        )


def _error_text(request: Request, error: GymkanaError) -> str:
    return translate(error.message, request_locale(request), **error.params)


# The contest's own form: new and edit.


def _contest_values(contest: Contest | None) -> dict[str, Any]:
    """What the contest form shows: the contest's values, or a new one's defaults."""
    if contest is None:
        return {"language": "es", "timezone": "Europe/Madrid", "alternates": "2", "min_age": "0"}
    texts = content.texts_of(contest, contest.language)
    values: dict[str, Any] = {
        f"{name}_{language}": texts[language].get(name, "")
        for language in LOCALES
        for name in content.CONTEST_FIELDS
    }
    values.update(
        language=contest.language,
        timezone=contest.timezone,
        starts_at=_local(contest.starts_at, contest.timezone),
        ends_at=_local(contest.ends_at, contest.timezone),
        alternates=str(contest.alternates),
        min_age=str(contest.min_age),
        countries=list(contest.countries),
    )
    return values


def _typed(form: FormData) -> dict[str, Any]:
    """What the marketer sent, to show it again beside a refusal."""
    return {
        key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"
    }


def _typed_values(form: FormData) -> dict[str, Any]:
    """What the marketer sent in the contest form, with its several countries and the
    main language's words under their suffixed names too."""
    values = _typed(form)
    values["countries"] = [code for code in form.getlist("countries") if isinstance(code, str)]
    main = values.get("language") if values.get("language") in LOCALES else "es"
    for name in content.CONTEST_FIELDS:
        values.setdefault(f"{name}_{main}", values.get(name, ""))
    return values


def _unless_unchanged(form: FormData, name: str, zone: str, current: datetime | None) -> datetime:
    """The instant typed in ``name``; the stored one when the field still shows it, since
    the form shows minutes and the contest may hold seconds."""
    zone = zone or "Europe/Madrid"
    if current is not None and forms.text(form, name, 40) == _local(current, zone):
        return current
    return forms.local_datetime(form, name, zone)


def _contest_draft(form: FormData, contest: Contest | None) -> ContestDraft:
    """The contest as the form describes it. Once published, the fields the page shows
    as fixed are not sent: they keep the contest's values."""
    fixed = contest is not None and contest.status is not ContestStatus.DRAFT
    language = contest.language if fixed and contest else forms.text(form, "language", 8) or "es"
    content.check_language(language)
    zone = contest.timezone if fixed and contest else forms.text(form, "timezone", 64)
    words = {
        other: {
            name: forms.text(form, f"{name}_{other}", size, multiline=name == "description")
            for name, size in (("title", 160), ("description", 5000))
        }
        for other in LOCALES
    }
    # As in the prize and step forms, the main language's fields may come unsuffixed.
    for name, size in (("title", 160), ("description", 5000)):
        words[language][name] = words[language][name] or forms.text(
            form, name, size, multiline=name == "description"
        )
    chosen = [code for code in form.getlist("countries") if isinstance(code, str) and code]
    if len(chosen) > 300 or any(len(code) > 2 for code in chosen):
        raise InvalidInput(N_("Choose the countries from the list."), "bad_countries")
    countries = tuple(chosen)
    if contest is not None and fixed:
        starts_at = contest.starts_at
        alternates, min_age, countries = (
            contest.alternates,
            contest.min_age,
            tuple(contest.countries),
        )
    else:
        starts_at = _unless_unchanged(
            form, "starts_at", zone, contest.starts_at if contest else None
        )
        alternates = forms.integer(form, "alternates", 2)
        min_age = forms.integer(form, "min_age", 0)
    return ContestDraft(
        title=words[language]["title"],
        description=words[language]["description"],
        starts_at=starts_at,
        ends_at=_unless_unchanged(form, "ends_at", zone, contest.ends_at if contest else None),
        timezone=zone,
        alternates=alternates,
        language=language,
        texts={other: words[other] for other in content.others(language)},
        min_age=min_age,
        countries=countries,
    )


async def _contest_form(
    request: Request,
    role: Marketer,
    contest: Contest | None,
    values: dict[str, Any],
    error: GymkanaError | None = None,
) -> Response:
    return await page(
        request,
        "console/contest_form.html",
        status=status_of(error) if error else 200,
        brand=role.brand,
        contest=contest,
        fixed=contest is not None and contest.status is not ContestStatus.DRAFT,
        values=values,
        error=_error_text(request, error) if error else "",
        zones=time_zones(),
        languages=LOCALE_NAMES,
        countries=country_names(request_locale(request)),
        can_edit=role.role.allows(EDITOR),
    )


async def new_contest(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    return await _contest_form(request, role, None, _contest_values(None))


async def create_contest(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    request.state.back = path(request, "console_new_contest", brand=role.brand.slug)
    form = await checked_form(request)
    try:
        contest = await authoring.create_contest(
            role.brand, _contest_draft(form, None), actor=actor(role), now=utcnow()
        )
    except InvalidInput as error:
        return await _contest_form(request, role, None, _typed_values(form), error)
    flash(request, N_("Contest created. Now add its prizes and steps."), "success")
    return redirect(_back_to(request, role, contest))


async def edit_contest_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    return await _contest_form(request, role, contest, _contest_values(contest))


async def edit_contest(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    request.state.back = path(
        request, "console_edit_contest", brand=role.brand.slug, contest=contest.id
    )
    form = await checked_form(request)
    try:
        await authoring.edit_contest(
            contest, _contest_draft(form, contest), actor=actor(role), now=utcnow()
        )
    except (InvalidInput, Conflict) as error:
        return await _contest_form(request, role, contest, _typed_values(form), error)
    flash(request, N_("Contest saved."), "success")
    return redirect(_back_to(request, role, contest))


async def duplicate(request: Request) -> Response:
    role, contest, _ = await _change(request, "")
    copy = await authoring.duplicate_contest(contest, actor=actor(role), now=utcnow())
    flash(request, N_("This is a draft copy: check its dates, then publish it."), "success")
    return redirect(_back_to(request, role, copy))


# Prizes.


async def _change(request: Request, anchor: str) -> tuple[Marketer, Contest, FormData]:
    """The role, the contest and the posted form of a change to one contest; a refusal
    goes back to the contest page at ``anchor`` with its message."""
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    request.state.back = _back_to(request, role, contest, anchor)
    return role, contest, await checked_form(request)


def _other_texts(form: FormData, main: str, sizes: dict[str, int]) -> dict[str, dict[str, str]]:
    """The words a form holds for the contest's other languages: ``title_en`` and so on."""
    return {
        other: {
            name: forms.text(
                form, f"{name}_{other}", size, multiline=name in ("description", "clue")
            )
            for name, size in sizes.items()
        }
        for other in content.others(main)
    }


_PRIZE_SIZES = {"name": 160, "description": 2000}


async def _refused(
    request: Request,
    role: Marketer,
    contest: Contest,
    form: FormData,
    refused: str,
    error: GymkanaError,
) -> Response:
    """The contest page again, the refused form open with what was typed in it."""
    return await contest_page(
        request, role, contest, refused=refused, typed=_typed(form), error=error
    )


async def _saved(
    request: Request,
    role: Marketer,
    contest: Contest,
    form: FormData,
    change: Callable[[], Awaitable[object]],
    *,
    refused: str,
    done: str,
    anchor: str,
) -> Response:
    """A prize or step form applied by ``change``: back to the contest at ``anchor`` with
    ``done`` said, or, refused, the form named ``refused`` open again with what was typed.
    ``change`` reads the form too, so a field it cannot read is refused the same way."""
    try:
        await change()
    except (InvalidInput, Conflict) as error:
        return await _refused(request, role, contest, form, refused, error)
    flash(request, done, "success")
    return redirect(_back_to(request, role, contest, anchor))


Part = TypeVar("Part", Prize, Step)


async def _part_form(
    request: Request, model: type[Part], name: str, missing: str
) -> tuple[Marketer, Contest, Part, FormData]:
    """A change to one of the contest's prizes or steps, ``model`` at the path's ``name``:
    a refusal goes back to its row, or to the list with the message ``missing`` when the
    contest has no such row."""
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    part = await model.filter(id=request.path_params[name], contest=contest).first()
    request.state.back = _back_to(
        request, role, contest, f"#{name}-{part.id}" if part else f"#{name}s"
    )
    form = await checked_form(request)
    if part is None:
        raise NotFound(missing, f"{name}_not_found")
    return role, contest, part, form


async def add_prize(request: Request) -> Response:
    role, contest, form = await _change(request, "#prizes")
    return await _saved(
        request,
        role,
        contest,
        form,
        lambda: authoring.add_prize(
            contest,
            name=forms.text(form, "name", 160),
            description=forms.text(form, "description", 2000, multiline=True),
            quantity=forms.integer(form, "quantity", 1),
            texts=_other_texts(form, contest.language, _PRIZE_SIZES),
            actor=actor(role),
            now=utcnow(),
        ),
        refused="add-prize",
        done=N_("Prize added."),
        anchor="#prizes",
    )


async def _prize_form(request: Request) -> tuple[Marketer, Contest, Prize, FormData]:
    return await _part_form(request, Prize, "prize", N_("This prize is not in this contest."))


async def edit_prize(request: Request) -> Response:
    role, contest, prize, form = await _prize_form(request)
    return await _saved(
        request,
        role,
        contest,
        form,
        lambda: authoring.edit_prize(
            contest,
            prize.id,
            name=forms.text(form, "name", 160),
            description=forms.text(form, "description", 2000, multiline=True),
            quantity=forms.integer(form, "quantity", prize.quantity),
            texts=_other_texts(form, contest.language, _PRIZE_SIZES),
            actor=actor(role),
            now=utcnow(),
        ),
        refused=f"prize-{prize.id}",
        done=N_("Prize saved."),
        anchor=f"#prize-{prize.id}",
    )


async def delete_prize(request: Request) -> Response:
    role, contest, prize, _ = await _prize_form(request)
    await authoring.delete_prize(contest, prize.id, actor=actor(role), now=utcnow())
    flash(request, N_("Prize “%(prize)s” deleted."), "success", prize=prize.name)
    return redirect(_back_to(request, role, contest, "#prizes"))


def _direction(form: FormData, refusal: str) -> bool:
    direction = forms.text(form, "direction", 4)
    if direction not in ("up", "down"):
        raise InvalidInput(refusal, "bad_direction")
    return direction == "up"


async def move_prize(request: Request) -> Response:
    role, contest, prize, form = await _prize_form(request)
    await authoring.move_prize(
        contest,
        prize.id,
        up=_direction(form, N_("Move the prize up or down.")),
        actor=actor(role),
        now=utcnow(),
    )
    return redirect(_back_to(request, role, contest, f"#prize-{prize.id}"))


# Steps.


def _step_sizes(kind_name: str) -> dict[str, int]:
    sizes = {"title": 160, "clue": 2000}
    question = kind_named(kind_name).form_fields.get("question")
    if question:
        sizes["question"] = question
    return sizes


def _step_draft(form: FormData, kind_name: str, main: str) -> StepDraft:
    """A step as its form describes it, with the kind's own fields and its words in the
    contest's other languages."""
    kind = kind_named(kind_name)
    return StepDraft(
        kind=kind.name,
        title=forms.text(form, "title", 160),
        clue=forms.text(form, "clue", 2000, multiline=True),
        points=forms.integer(form, "points", 1),
        required=forms.checkbox(form, "required"),
        unlocks_after=forms.row_id(form, "unlocks_after"),
        settings={
            name: forms.text(form, name, size, multiline=name in kind.multiline_fields)
            for name, size in kind.form_fields.items()
        },
        texts=_other_texts(form, main, _step_sizes(kind.name)),
    )


async def add_step(request: Request) -> Response:
    role, contest, form = await _change(request, "#steps")
    kind = forms.text(form, "kind", 16)
    return await _saved(
        request,
        role,
        contest,
        form,
        lambda: authoring.add_step(
            contest,
            _step_draft(form, kind, contest.language),
            actor=actor(role),
            now=utcnow(),
            required_confirmed=forms.checkbox(form, "confirm_required"),
        ),
        refused=f"add-{kind}",
        done=N_("Step added."),
        anchor="#steps",
    )


async def _step_form(request: Request) -> tuple[Marketer, Contest, Step, FormData]:
    return await _part_form(request, Step, "step", N_("This step is not in this contest."))


async def change_step(request: Request) -> Response:
    role, contest, step, form = await _step_form(request)
    return await _saved(
        request,
        role,
        contest,
        form,
        lambda: authoring.edit_step_settings(
            contest,
            step.id,
            _step_draft(form, step.kind, contest.language),
            actor=actor(role),
            now=utcnow(),
        ),
        refused=f"step-{step.id}",
        done=N_("Step saved."),
        anchor=f"#step-{step.id}",
    )


async def edit_step(request: Request) -> Response:
    role, contest, step, form = await _step_form(request)
    return await _saved(
        request,
        role,
        contest,
        form,
        lambda: authoring.edit_step_text(
            contest,
            step.id,
            title=forms.text(form, "title", 160),
            clue=forms.text(form, "clue", 2000, multiline=True),
            texts=_other_texts(form, contest.language, {"title": 160, "clue": 2000})
            if any(key.endswith(tuple(f"_{o}" for o in LOCALES)) for key in form)
            else None,
            actor=actor(role),
            now=utcnow(),
        ),
        refused=f"words-{step.id}",
        done=N_("Step updated."),
        anchor=f"#step-{step.id}",
    )


async def delete_step(request: Request) -> Response:
    role, contest, step, _ = await _step_form(request)
    await authoring.delete_step(contest, step.id, actor=actor(role), now=utcnow())
    flash(request, N_("Step “%(step)s” deleted."), "success", step=step.title)
    return redirect(_back_to(request, role, contest, "#steps"))


async def move_step(request: Request) -> Response:
    role, contest, step, form = await _step_form(request)
    await authoring.move_step(
        contest,
        step.id,
        up=_direction(form, N_("Move the step up or down.")),
        actor=actor(role),
        now=utcnow(),
    )
    return redirect(_back_to(request, role, contest, f"#step-{step.id}"))


async def referral_leaderboard(request: Request) -> Response:
    role, contest, form = await _change(request, "#referrals")
    shown_now = forms.checkbox(form, "shown")
    await authoring.show_referral_leaderboard(contest, shown_now, actor=actor(role), now=utcnow())
    if shown_now:
        flash(request, N_("The contest page now shows the top referrers."), "success")
    else:
        flash(request, N_("The contest page no longer shows the top referrers."), "success")
    return redirect(_back_to(request, role, contest, "#referrals"))


# Rules and privacy notice.


async def _rules_form(
    request: Request,
    role: Marketer,
    contest: Contest,
    texts: dict[str, dict[str, str]],
    error: GymkanaError | None = None,
) -> Response:
    return await page(
        request,
        "console/contest_rules.html",
        status=status_of(error) if error else 200,
        brand=role.brand,
        contest=contest,
        texts=texts,
        version=await rules.current(contest),
        error=_error_text(request, error) if error else "",
        languages=LOCALE_NAMES,
        editable=contest.status in lifecycle.EDITABLE and role.role.allows(EDITOR),
    )


async def rules_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    latest = await rules.current(contest)
    texts = latest.texts if latest else rules.template(contest, role.brand)
    return await _rules_form(request, role, contest, texts)


async def save_rules(request: Request) -> Response:
    role = await role_for(request, EDITOR)
    contest = await contest_for(request, role)
    request.state.back = path(request, "console_rules", brand=role.brand.slug, contest=contest.id)
    form = await checked_form(request)
    try:
        texts = {
            language: {
                name: forms.text(form, f"{name}_{language}", rules.LONGEST, multiline=True)
                for name in rules.FIELDS
            }
            for language in LOCALES
        }
        version = await rules.save(contest, texts, actor=actor(role), now=utcnow())
    except InvalidInput as error:
        typed = {
            language: {
                name: str(form.get(f"{name}_{language}", ""))[: rules.LONGEST * 2]
                for name in rules.FIELDS
            }
            for language in LOCALES
        }
        return await _rules_form(request, role, contest, typed, error)
    flash(
        request,
        N_("Rules saved as version %(version)s."),
        "success",
        version=version.version,
    )
    return redirect(_back_to(request, role, contest, "#rules"))


# The irreversible buttons.


async def publish(request: Request) -> Response:
    role, contest, form = await _change(request, "#publish")
    _confirmed(form)
    settings = app_state(request).settings
    now = utcnow()
    await publishing.publish(
        contest,
        actor=actor(role),
        now=now,
        network=beacon.configured(settings, now),
        margin_seconds=settings.drand_margin_seconds,
    )
    flash(request, N_("Published. The seed of the draw is now committed."), "success")
    return redirect(_back_to(request, role, contest))


async def draw_randomness(request: Request) -> Response:
    role, contest, form = await _change(request, "#randomness")
    without = forms.checkbox(form, "without_beacon")
    await publishing.choose_beacon(contest, without=without, actor=actor(role), now=utcnow())
    if without:
        flash(
            request,
            N_("This contest will be drawn without a public beacon: its pages will say so."),
            "success",
        )
    else:
        flash(request, N_("This contest will be drawn with a public beacon."), "success")
    return redirect(_back_to(request, role, contest, "#randomness"))


async def move_end(request: Request) -> Response:
    role, contest, form = await _change(request, "")
    ends_at = forms.local_datetime(form, "ends_at", contest.timezone)
    if await authoring.move_end(contest, ends_at, actor=actor(role), now=utcnow()):
        flash(request, N_("End time changed."), "success")
    else:
        flash(request, N_("The contest already ends at that time."), "success")
    return redirect(_back_to(request, role, contest))


async def close_now(request: Request) -> Response:
    role, contest, form = await _change(request, "#close")
    _confirmed(form)
    state = app_state(request)
    await closing.close_then_draw(
        state.queue, state.settings.queue_name, contest.id, utcnow(), actor=actor(role)
    )
    flash(request, N_("Closed. The list is frozen and the draw is on its way."), "success")
    return redirect(_back_to(request, role, contest))


routes = [
    Route("/console/{brand:slug}/contests/new", new_contest, name="console_new_contest"),
    Route(
        "/console/{brand:slug}/contests",
        create_contest,
        methods=["POST"],
        name="console_create_contest",
    ),
    Route(CONTEST + "/edit", edit_contest_page, name="console_edit_contest"),
    Route(CONTEST + "/edit", edit_contest, methods=["POST"], name="console_save_contest"),
    Route(CONTEST + "/duplicate", duplicate, methods=["POST"], name="console_duplicate"),
    Route(CONTEST + "/prizes", add_prize, methods=["POST"], name="console_add_prize"),
    Route(PRIZE, edit_prize, methods=["POST"], name="console_edit_prize"),
    Route(PRIZE + "/delete", delete_prize, methods=["POST"], name="console_delete_prize"),
    Route(PRIZE + "/move", move_prize, methods=["POST"], name="console_move_prize"),
    Route(CONTEST + "/steps", add_step, methods=["POST"], name="console_add_step"),
    Route(STEP, edit_step, methods=["POST"], name="console_edit_step"),
    Route(STEP + "/settings", change_step, methods=["POST"], name="console_change_step"),
    Route(STEP + "/delete", delete_step, methods=["POST"], name="console_delete_step"),
    Route(STEP + "/move", move_step, methods=["POST"], name="console_move_step"),
    Route(
        CONTEST + "/leaderboard",
        referral_leaderboard,
        methods=["POST"],
        name="console_referral_leaderboard",
    ),
    Route(CONTEST + "/rules", rules_page, name="console_rules"),
    Route(CONTEST + "/rules", save_rules, methods=["POST"], name="console_save_rules"),
    Route(CONTEST + "/publish", publish, methods=["POST"], name="console_publish"),
    Route(
        CONTEST + "/randomness",
        draw_randomness,
        methods=["POST"],
        name="console_draw_randomness",
    ),
    Route(CONTEST + "/end", move_end, methods=["POST"], name="console_move_end"),
    Route(CONTEST + "/close", close_now, methods=["POST"], name="console_close"),
]
