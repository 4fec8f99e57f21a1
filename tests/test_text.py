"""Free text: control characters never, line breaks only where several lines are
expected, and no invisible or text-reversing characters in people's names."""

from __future__ import annotations

import pytest

from contests.errors import InvalidInput
from contests.text import check_text, excerpt, usable


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Ana\x00", "bad_character"),
        ("Ana\x1b[31m", "bad_character"),
        ("Ana\x85", "bad_character"),
        ("Ana\x7f", "bad_character"),
        ("Ana\ud800", "bad_character"),
        ("Ana\ufffd", "bad_character"),
        ("Ana\tLópez", "bad_character"),
        ("Ana\r\nBcc: victim@example.com", "line_break"),
        ("Ana\u2028López", "line_break"),
    ],
)
def test_a_single_line_refuses_control_characters_and_line_breaks(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_text(value, "title")
    assert refused.value.code == code and refused.value.params == {"field": "title"}


def test_text_of_several_lines_keeps_its_lines_and_tabs_only() -> None:
    assert check_text("Line one\r\n\tLine two\n", "clue", multiline=True) == (
        "Line one\r\n\tLine two\n"
    )
    for bad in ("\x00", "\x0b", "\x1f", "\x9f", "\ufffd"):
        assert not usable(f"a{bad}b", multiline=True), repr(bad)


@pytest.mark.parametrize(
    "mark", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u200d", "\u2060", "\ufeff"]
)
def test_a_name_refuses_invisible_and_text_reversing_characters(mark: str) -> None:
    assert usable(f"Ana{mark}gnp.exe", multiline=False)
    with pytest.raises(InvalidInput) as refused:
        check_text(f"Ana{mark}gnp.exe", "display_name", name=True)
    assert refused.value.code == "invisible_character"


def test_names_in_any_script_are_kept() -> None:
    for name in ("Ana López", "Zoë Ñúñez", "李小龙", "محمد", "Ελένη", "Ana 🎉"):
        assert check_text(name, "display_name", name=True) == name


def test_an_excerpt_is_short_and_printable() -> None:
    shown = excerpt("a\x00" + "x" * 100_000)
    assert shown.startswith("a?x") and shown.endswith("…") and len(shown) == 61
    assert excerpt("shop.example.com") == "shop.example.com"
