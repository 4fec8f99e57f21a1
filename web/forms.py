"""Reading what people send (form fields, small JSON bodies) into typed values, with
messages a person can act on.

Every field is read through ``text``: its length is checked before anything else
looks at it, and characters that cannot be kept are refused (``contests.text``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from contests.errors import N_, InvalidInput
from contests.text import check_text
from contests.zones import check_zone


def text(form: FormData, name: str, max_length: int = 2000, *, multiline: bool = False) -> str:
    """A text field, stripped; ``multiline`` for text of several lines (descriptions)."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(N_("The field “%(field)s” must be text."), "bad_field", field=name)
    if len(value) > max_length:
        raise InvalidInput(
            N_("“%(field)s” is too long (at most %(max)s characters)."),
            "too_long",
            field=name,
            max=max_length,
        )
    return check_text(value, name, multiline=multiline).strip()


def person_name(form: FormData, name: str, max_length: int = 120) -> str:
    """What to call someone: one line, without invisible or text-reversing characters."""
    return check_text(text(form, name, max_length), name, name=True)


# Every integer column is 32-bit: a larger number can only be a mistake.
LARGEST = 2**31 - 1


def integer(form: FormData, name: str, default: int) -> int:
    raw = text(form, name, 12)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = LARGEST + 1
    if abs(value) > LARGEST:
        raise InvalidInput(N_("“%(field)s” must be a whole number."), "bad_number", field=name)
    return value


def row_id(form: FormData, name: str) -> int | None:
    """An optional reference to a row; anything that cannot be one refers to no row (0)."""
    raw = text(form, name, 12)
    if not raw:
        return None
    return int(raw) if raw.isdigit() and 0 < int(raw) <= LARGEST else 0


def local_datetime(form: FormData, name: str, zone: str) -> datetime:
    """A datetime-local field, read in the contest's time zone, returned in UTC."""
    raw = text(form, name, 40)
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            N_("“%(field)s” needs a date and a time."), "bad_datetime", field=name
        ) from None
    if not 2000 <= naive.year <= 2999:
        raise InvalidInput(
            N_("“%(field)s” needs a date and a time."), "date_out_of_range", field=name
        )
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=ZoneInfo(check_zone(zone))).astimezone(UTC)


def checkbox(form: FormData, name: str) -> bool:
    """A box the page sends as "on" or not at all: anything else is refused, not read as
    unticked (a step's requirement must not drop by accident)."""
    value = text(form, name, 3)
    if value not in ("", "on"):
        raise InvalidInput(N_("Tick the box or leave it empty."), "bad_choice")
    return value == "on"


# A JSON string, escapes included; what is left outside strings is structure.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def small_json(body: bytes, max_containers: int = 8) -> Any:
    """A small JSON document, or ValueError (never RecursionError).

    Objects and arrays are counted before parsing, outside strings: a document with
    more than ``max_containers`` of them is refused, which bounds its nesting too.
    """
    structure = _JSON_STRING.sub(b"", body)
    if structure.count(b"{") + structure.count(b"[") > max_containers:
        raise ValueError("too many objects or arrays")
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("nested too deeply") from None
