"""The Jinja2 environment for pages and emails, translated in the reader's locale."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from contests import markup
from contests.audit import action_name
from contests.content import in_language
from contests.eligibility import country_names
from contests.i18n import current_locale, raw_gettext, raw_ngettext, use_locale
from contests.models import Contest, Prize, Step

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
# The zone by its place ("Spain (Madrid) Time", "hora de España (Madrid)"): a reader
# abroad knows at once which clock a time is on.
WITH_ZONE = "d MMM y, HH:mm VVVV"


def local_time(value: datetime | None, zone: str = "UTC", style: str = "medium") -> str:
    """A UTC instant shown in the contest's zone, in the reader's language, zone named."""
    if value is None:
        return ""
    localised = value.astimezone(ZoneInfo(zone))
    pattern = {"medium": "d MMM y, HH:mm zzzz", "short": "d MMM, HH:mm"}.get(style, style)
    return format_datetime(localised, pattern, locale=current_locale())


def time_tag(value: datetime | None, zone: str = "UTC") -> Markup:
    """A UTC instant as a <time> element, in the contest's zone with that zone named.

    Only the browser knows its reader's zone: the page's script writes the time again in
    that zone when it differs, keeping this text beside it."""
    if value is None:
        return Markup("")
    text = format_datetime(value.astimezone(ZoneInfo(zone)), WITH_ZONE, locale=current_locale())
    return Markup('<time datetime="{}" data-zone="{}">{}</time>').format(
        value.astimezone(UTC).isoformat(timespec="seconds"), zone, text
    )


def title_in_language(contest: Contest) -> str:
    """A contest's title in the language being rendered (an email's, a page's)."""
    return in_language(contest, "title", current_locale(), contest.language)


def in_reader_language(row: Contest | Prize | Step, name: str, contest: Contest) -> str:
    """One text of a contest's prize or step (or of the contest) in the language being
    rendered, or in the contest's main language when not written in it."""
    return in_language(row, name, current_locale(), contest.language)


def country_name(code: str) -> str:
    """A country's name in the reader's language, from its ISO 3166 code."""
    return country_names(current_locale()).get(code, code)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "htm"], default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        raw_gettext, raw_ngettext, newstyle=True
    )
    env.filters["local_time"] = local_time
    env.filters["time_tag"] = time_tag
    env.filters["markdown"] = markup.render
    env.filters["country_name"] = country_name
    env.filters["title_in_language"] = title_in_language
    env.filters["in_reader_language"] = in_reader_language
    env.globals["current_locale"] = current_locale
    env.globals["action_name"] = action_name
    return env


def render(name: str, locale: str, **context: Any) -> str:
    with use_locale(locale):
        return environment().get_template(name).render(locale=locale, **context)
