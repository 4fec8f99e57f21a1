"""Translations: Babel catalogues for Spanish and English, chosen at render time.

Catalogues are read from the ``.po`` files at first use and compiled in memory, so
a checkout needs no build step and a fixed translation shows up on restart.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from contests.errors import Message

LOCALES = ("es", "en")
LOCALE_NAMES = {"es": "Español", "en": "English"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current: ContextVar[str] = ContextVar("gymkana_locale", default="es")


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def normalise(locale: str | None) -> str | None:
    if not locale:
        return None
    short = locale.strip().lower().replace("_", "-").split("-")[0]
    return short if short in LOCALES else None


def negotiate(accept_language: str | None, default: str) -> str:
    """Pick es or en from an Accept-Language header, by the header's own order of preference."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = normalise(tag)
        if locale and quality > 0:
            choices.append((-quality, position, locale))
    return min(choices)[2] if choices else default


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(normalise(locale) or "es")
    try:
        yield
    finally:
        _current.reset(token)


def raw_gettext(message: str) -> str:
    """The translation, placeholders left in (Jinja's newstyle gettext fills them)."""
    return catalogue(_current.get()).gettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(_current.get()).ngettext(singular, plural, n)


def gettext_(message: str, **params: Any) -> str:
    text = raw_gettext(message)
    return text % params if params else text


def ngettext_(singular: str, plural: str, n: int, **params: Any) -> str:
    return raw_ngettext(singular, plural, n) % {"num": n, **params}


def translate(message: Message, locale: str, **params: Any) -> str:
    """A message in ``locale``; a plural pair takes its form from the ``num`` parameter."""
    with use_locale(locale):
        if isinstance(message, str):
            return gettext_(message, **params)
        singular, plural = message
        count = int(params.pop("num", 0))
        return ngettext_(singular, plural, count, **params)
