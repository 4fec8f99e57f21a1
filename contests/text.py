"""The free text we keep: what a person types, never what a database, a mail header or
a screen would read as something else.

PostgreSQL refuses a NUL where SQLite stores it silently, so such a character must be
refused before either sees it, the same on both. A line break in anything that can
reach a mail header (a name, an address, a subject) could add a header. And in a
person's name, invisible characters and direction overrides make one name look like
another.
"""

from __future__ import annotations

import re

from contests.errors import N_, NP_, InvalidInput

# C0 and C1 control characters and DEL (TAB, LF and CR are allowed in text of several
# lines), lone surrogates, which no encoding can store, and U+FFFD, which is what
# arrives when the bytes sent were not UTF-8.
_BROKEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd"
_BROKEN_IN_TEXT = re.compile(f"[{_BROKEN}]")
_BROKEN_IN_LINE = re.compile(f"[{_BROKEN}\t]")
_LINE_BREAK = re.compile("[\n\r\u2028\u2029]")
# Zero-width characters and the bidirectional embeddings, overrides and isolates.
_DISGUISE = re.compile("[\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]")


def check_text(value: str, field: str, *, multiline: bool = False, name: bool = False) -> str:
    """``value`` unchanged if it can be kept, else InvalidInput saying what to fix.

    ``multiline`` lets TAB and line breaks through (descriptions, clues); ``name`` also
    refuses invisible characters and direction overrides (people's names).
    """
    if (_BROKEN_IN_TEXT if multiline else _BROKEN_IN_LINE).search(value):
        raise InvalidInput(
            N_(
                "“%(field)s” contains a character that cannot be used (a control "
                "character, or text that was not sent as UTF-8). Type it again."
            ),
            "bad_character",
            field=field,
        )
    if not multiline and _LINE_BREAK.search(value):
        raise InvalidInput(N_("“%(field)s” must fit on one line."), "line_break", field=field)
    if name and _DISGUISE.search(value):
        raise InvalidInput(
            N_(
                "“%(field)s” contains invisible characters or marks that reverse the "
                "text. Type it again without them."
            ),
            "invisible_character",
            field=field,
        )
    return value


# What a browser would read as a tag or a comment (“<b>”, “</p>”, “<!--”), not a lone
# “<” as in “I <3 it” or “a < b”.
_MARKUP = re.compile(r"<[/!?]?[A-Za-z][^<>]*>|<!--")


def has_markup(value: str) -> bool:
    """Whether ``value`` holds HTML tags: plain text we keep must not."""
    return _MARKUP.search(value) is not None


def usable(value: str, *, multiline: bool = False, name: bool = False) -> bool:
    """Whether ``check_text`` would keep ``value``."""
    try:
        check_text(value, "", multiline=multiline, name=name)
    except InvalidInput:
        return False
    return True


def excerpt(value: str, limit: int = 60) -> str:
    """Some of what a person sent, to show back in a message without it growing the
    message (a flash message lives in the session cookie)."""
    shown = "".join(c if c.isprintable() else "?" for c in value[:limit])
    return shown + "…" if len(value) > limit else shown


# What a search may be: a few words, not a document.
SEARCH_MAX = 100


def search_words(raw: str) -> str:
    """What to look for, on one line; InvalidInput when it is far too long to be a search."""
    words = " ".join(raw.split())
    if len(words) > SEARCH_MAX:
        raise InvalidInput(
            NP_(
                "Search for at most %(num)s character.",
                "Search for at most %(num)s characters.",
            ),
            "search_too_long",
            num=SEARCH_MAX,
        )
    return words
