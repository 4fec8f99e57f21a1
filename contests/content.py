"""A contest's words in each language: what a participant reads in theirs, falling back
to the contest's main language, and what the console shows as still missing.

The main language's texts are also kept in the rows' own columns (``Contest.title``,
``Prize.name``, ``Step.title``, a question in ``Step.config``), which the console, the
emails and the audit log read as they always have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contests.errors import N_, InvalidInput
from contests.i18n import LOCALES
from contests.models import Contest, Prize, Step

CONTEST_FIELDS = ("title", "description")
PRIZE_FIELDS = ("name", "description")
STEP_FIELDS = ("title", "clue", "question")

Texts = dict[str, dict[str, str]]


def check_language(language: str) -> str:
    if language not in LOCALES:
        raise InvalidInput(N_("Choose Spanish or English."), "bad_language")
    return language


def others(main: str) -> tuple[str, ...]:
    """The languages besides the main one, each a set of optional translations."""
    return tuple(language for language in LOCALES if language != main)


def _columns(row: Contest | Prize | Step) -> dict[str, str]:
    if isinstance(row, Contest):
        return {"title": row.title, "description": row.description}
    if isinstance(row, Prize):
        return {"name": row.name, "description": row.description}
    question = str(row.config.get("question", "")) if "question" in row.config else ""
    return {"title": row.title, "clue": row.clue, **({"question": question} if question else {})}


def texts_of(row: Contest | Prize | Step, main: str) -> Texts:
    """Every language's texts of a row, the main one read from its columns."""
    texts = {language: dict(row.texts.get(language, {})) for language in LOCALES}
    texts[main] = _columns(row)
    return texts


def cleaned(texts: Mapping[str, Mapping[str, str]], fields: Iterable[str]) -> Texts:
    """Only the known languages and fields, stripped, empty ones left out."""
    names = tuple(fields)
    return {
        language: {
            name: value.strip()
            for name, value in texts.get(language, {}).items()
            if name in names and value.strip()
        }
        for language in LOCALES
    }


def _in(row: Contest | Prize | Step, name: str, locale: str, main: str, fallback: str) -> str:
    if locale == main:
        return fallback
    return row.texts.get(locale, {}).get(name) or fallback


def in_language(row: Contest | Prize | Step, name: str, locale: str, main: str) -> str:
    """One text of a row in ``locale``, or in the main language when not written there."""
    fallback = texts_of(row, main)[main].get(name, "")
    return _in(row, name, locale, main, fallback)


def localize(contest: Contest, prizes: Iterable[Prize], steps: Iterable[Step], locale: str) -> None:
    """Put the reader's language into the rows a page is about to show.

    Only the page's own copies change, and they are never saved: the rows are read for
    one response, so the columns keep the main language in the database.
    """
    main = contest.language
    if locale == main:
        return
    contest.title = _in(contest, "title", locale, main, contest.title)
    contest.description = _in(contest, "description", locale, main, contest.description)
    for prize in prizes:
        prize.name = _in(prize, "name", locale, main, prize.name)
        prize.description = _in(prize, "description", locale, main, prize.description)
    for step in steps:
        step.title = _in(step, "title", locale, main, step.title)
        step.clue = _in(step, "clue", locale, main, step.clue)
        if "question" in step.config:
            question = _in(step, "question", locale, main, str(step.config["question"]))
            step.config = {**step.config, "question": question}


@dataclass(frozen=True)
class Missing:
    """What a language still lacks, as the console lists it: each a translatable label
    and the name of the prize or step it belongs to (empty for the contest)."""

    language: str
    items: list[tuple[str, str]]


_LABELS = {
    "title": N_("title"),
    "description": N_("description"),
    "name": N_("name"),
    "clue": N_("clue"),
    "question": N_("question"),
}


def missing(contest: Contest, prizes: Iterable[Prize], steps: Iterable[Step]) -> list[Missing]:
    """For each language, the texts written in the main language and not in it."""
    main = contest.language
    rows: list[tuple[Contest | Prize | Step, str]] = [(contest, "")]
    rows += [(prize, prize.name) for prize in prizes]
    rows += [(step, step.title) for step in steps]
    report = []
    for language in LOCALES:
        items = []
        for row, owner in rows:
            texts = texts_of(row, main)
            for name, value in texts[main].items():
                if value and not texts[language].get(name):
                    items.append((_LABELS[name], owner))
        report.append(Missing(language, items))
    return report
