"""A contest's rules and privacy notice as participants read them, from the consent
line, and accepting a new version of them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import rules, views
from contests.clock import utcnow
from contests.consent import accept, must_accept_again
from contests.content import localize
from contests.entries import entry_of
from contests.errors import N_, InvalidInput, NotFound
from contests.models import RulesVersion
from web import forms
from web.rendering import page, path, redirect
from web.session import answer_at, checked_form, flash, request_locale, require_viewer, viewer


async def rules_page(request: Request) -> Response:
    """The version in force, or an earlier one (``?v=``): each participant may read
    the version they accepted."""
    contest = await views.public_contest(request.path_params["slug"])
    locale = request_locale(request)
    asked = request.query_params.get("v", "")
    version = (
        await RulesVersion.filter(contest=contest, version=int(asked)).first()
        if asked.isdigit() and len(asked) < 6
        else await rules.current(contest)
    )
    if version is not None:
        texts, number = rules.text_in(version, locale, contest.language), version.version
    elif not asked and not await RulesVersion.filter(contest=contest).exists():
        # Published without rules of its own: the template is what its entrants accepted.
        texts = rules.template(contest, contest.brand)[locale]
        number = int(contest.rules_version)
    else:
        raise NotFound(N_("These rules do not exist."), "rules_not_found")
    entry = await entry_of(contest, await viewer(request))
    localize(contest, [], [], locale)
    return await page(
        request,
        "participant/rules.html",
        contest=contest,
        texts=texts,
        version=number,
        back=path(request, "contest", slug=contest.slug),
        entry=entry,
        must_accept_again=must_accept_again,
    )


async def accept_rules(request: Request) -> Response:
    """Accept the version in force, named by the form: a version changed meanwhile is
    refused, so nobody accepts text they were not shown."""
    slug = request.path_params["slug"]
    answer_at(request, path(request, "contest", slug=slug), "steps")
    participant = await require_viewer(request)
    form = await checked_form(request)
    contest = await views.public_contest(slug)
    entry = await entry_of(contest, participant)
    if entry is None:
        raise NotFound(N_("Enter the contest first, then do the steps."), "no_entry")
    if not forms.checkbox(form, "consent"):
        raise InvalidInput(
            N_("To take part, accept the contest rules and the privacy notice."),
            "consent_required",
        )
    await accept(contest, entry, version=forms.text(form, "version", 12), now=utcnow())
    flash(request, N_("Thank you: you can go on with the gymkana."), "success", target="steps")
    return redirect(request.state.back)


routes = [
    Route("/c/{slug}/rules", rules_page, name="contest_rules"),
    Route("/c/{slug}/consent", accept_rules, methods=["POST"], name="contest_consent"),
]
