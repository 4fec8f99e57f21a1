"""A brand's look on the pages and emails participants see: its colour and its logo."""

from __future__ import annotations

import re

from contests.errors import N_, InvalidInput
from contests.text import excerpt

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")

# WCAG 2.1 AA for normal text: buttons and the header put white text on the colour.
AA_CONTRAST = 4.5
WHITE = (1.0, 1.0, 1.0)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """Relative luminance of "#rrggbb", as WCAG 2.1 defines it."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_with_white(colour: str) -> float:
    return 1.05 / (luminance(colour) + 0.05)


def clean_colour(value: str) -> str:
    """The brand colour as "#rrggbb" (lower case), or "" for none; InvalidInput when it
    is not a colour or white text on it would be hard to read."""
    text = value.strip()
    if not text:
        return ""
    match = _HEX.fullmatch(text)
    if match is None:
        raise InvalidInput(
            N_("“%(colour)s” is not a colour: write it as #rrggbb, for example #8a3b12."),
            "invalid_colour",
            colour=excerpt(text),
        )
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    colour = "#" + digits
    ratio = contrast_with_white(colour)
    if ratio < AA_CONTRAST:
        raise InvalidInput(
            N_(
                "White text on %(colour)s has a contrast of %(ratio)s:1, and at least 4.5:1 "
                "is needed to read it easily: choose a darker shade."
            ),
            "low_contrast",
            colour=colour,
            ratio=f"{ratio:.2f}",
        )
    return colour
