"""A contest's rules and privacy notice: written per contest from a template, kept as
numbered versions, and the participant's consent to one of them.

In a draft nobody has consented yet, so saving rewrites the one version there is. Once
published every change is a new version, and participants who accepted an older one
accept again before they go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tortoise.transactions import in_transaction

from contests.authoring import changed
from contests.content import cleaned
from contests.eligibility import country_names
from contests.errors import N_, InvalidInput
from contests.i18n import LOCALES
from contests.lifecycle import require_editable
from contests.models import Brand, Contest, ContestStatus, RulesVersion
from contests.templating import local_time, render

FIELDS = ("rules", "privacy")
LONGEST = 20000


def template(contest: Contest, brand: Brand) -> dict[str, dict[str, str]]:
    """The project's starting text, in every language, filled in with the contest's
    facts: the marketer reads it, completes it and saves it as their own."""
    texts = {}
    for language in LOCALES:
        names = country_names(language)
        context = {
            "brand": brand,
            "contest": contest,
            "title": contest.texts.get(language, {}).get("title") or contest.title,
            "countries": ", ".join(names.get(code, code) for code in contest.countries),
            "starts": local_time(contest.starts_at, contest.timezone, "d MMMM y, HH:mm"),
            "ends": local_time(contest.ends_at, contest.timezone, "d MMMM y, HH:mm"),
        }
        texts[language] = {
            name: render(f"rules/{name}.{language}.md", language, **context).strip()
            for name in FIELDS
        }
    return texts


async def current(contest: Contest) -> RulesVersion | None:
    return await RulesVersion.filter(contest=contest).order_by("-version").first()


def text_in(version: RulesVersion, locale: str, main: str) -> dict[str, str]:
    """The rules and notice in the reader's language, each falling back to the main one."""
    mine, first = version.texts.get(locale, {}), version.texts.get(main, {})
    return {name: mine.get(name) or first.get(name, "") for name in FIELDS}


async def save(
    contest: Contest,
    texts: Mapping[str, Mapping[str, str]],
    *,
    actor: str,
    now: datetime,
) -> RulesVersion:
    """Save the rules and notice; the main language needs both."""
    require_editable(contest)
    kept = cleaned(texts, FIELDS)
    for name in FIELDS:
        if not kept[contest.language].get(name):
            raise InvalidInput(
                N_("Write the rules and the privacy notice in the contest's main language."),
                "rules_required",
            )
    if any(len(value) > LONGEST for words in kept.values() for value in words.values()):
        raise InvalidInput(N_("The rules are too long (at most 20000 characters)."), "rules_long")
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        require_editable(locked)
        latest = await current(contest)
        if latest is not None and latest.texts == kept:
            return latest
        if latest is not None and locked.status is ContestStatus.DRAFT:
            latest.texts, latest.created_at, latest.created_by = kept, now, actor
            await latest.save(update_fields=["texts", "created_at", "created_by"])
            version = latest
        else:
            # Published without rules of its own, a contest's entrants accepted the
            # template as version 1 (its starting ``rules_version``): what follows is new.
            first = 1 if locked.status is ContestStatus.DRAFT else int(locked.rules_version) + 1
            number = latest.version + 1 if latest else first
            version = await RulesVersion.create(
                contest=contest, version=number, texts=kept, created_at=now, created_by=actor
            )
        await Contest.filter(id=contest.id).update(rules_version=str(version.version))
        contest.rules_version = str(version.version)
        await changed(contest, "rules.saved", actor=actor, now=now, version=version.version)
    return version


async def ensure(contest: Contest, *, actor: str, now: datetime) -> RulesVersion:
    """The contest's rules, the template's when the marketer wrote none: nobody
    consents to rules that do not exist."""
    return await current(contest) or await save(
        contest, template(contest, contest.brand), actor=actor, now=now
    )
