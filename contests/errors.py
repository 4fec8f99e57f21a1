"""What can go wrong in the domain, said for the person who caused it.

Messages are gettext message ids with ``%(name)s`` placeholders: they are translated
when rendered, in the reader's language, never here. A message that shows a number is a
singular and plural pair (``NP_``), chosen by its ``num`` parameter. No HTTP status
lives in the domain; ``web/errors.py`` maps each kind to one.
"""

from __future__ import annotations

from typing import Any

# A message id, or the singular and plural ids of a message that shows a number.
Message = str | tuple[str, str]


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it now."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with plural forms; the ``num`` parameter chooses the form."""
    return singular, plural


def english(message: Message, **params: Any) -> str:
    """The message in English, untranslated (for logs and exceptions)."""
    if isinstance(message, tuple):
        message = message[0] if params.get("num") == 1 else message[1]
    return message % params if params else message


class GymkanaError(Exception):
    """Base of every expected failure: a rule refused, not a crash."""

    kind = "invalid"

    def __init__(self, message: Message, code: str, **params: Any) -> None:
        super().__init__(english(message, **params))
        self.message = message
        self.code = code
        self.params = params


class InvalidInput(GymkanaError):
    kind = "invalid"


class NotFound(GymkanaError):
    kind = "not_found"


class NotAllowed(GymkanaError):
    kind = "not_allowed"


class NotSignedIn(GymkanaError):
    kind = "not_signed_in"


class Conflict(GymkanaError):
    kind = "conflict"


class RateLimited(GymkanaError):
    kind = "rate_limited"


class Unavailable(GymkanaError):
    """A service this needs (the queue, the rate-limit store) is down for a moment."""

    kind = "unavailable"


class ConfigurationError(Exception):
    """A setting is missing or wrong; raised at start-up, before anything runs."""
