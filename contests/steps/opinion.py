"""Opinion steps (“tell us”): an open question the participant answers in their own words.

An answer counts as soon as it is sent, whatever it says: it is never judged. It is kept
as plain text, as typed (pages escape it), in ``contests.answers``, where the brand reads
it and may reply. The participant may change it while the contest is open and until the
brand replies; it counts once, however often it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from contests import answers
from contests.errors import N_, NP_, InvalidInput
from contests.models import Brand, Entry, Step
from contests.steps.kind import (
    QUESTION_LENGTH,
    Attempt,
    CompletedBy,
    StepKind,
    number_setting,
    question_setting,
)
from contests.text import has_markup, usable
from contests.tokens import Tokens

SHORTEST = 10
LONGEST_DEFAULT = 1000
# The longest any opinion step may allow.
LONGEST = 5000


class OpinionSettings(BaseModel):
    question: str = Field(min_length=1, max_length=QUESTION_LENGTH)
    min_length: int = Field(default=SHORTEST, ge=1, le=1000)
    max_length: int = Field(default=LONGEST_DEFAULT, ge=1, le=LONGEST)

    @model_validator(mode="after")
    def _limits_in_order(self) -> OpinionSettings:
        if self.min_length > self.max_length:
            raise ValueError("min_length is above max_length")
        return self


def check_words(text: str, settings: OpinionSettings) -> str:
    """The answer to keep, or InvalidInput saying what to change."""
    words = text.strip()
    if not usable(words, multiline=True):
        raise InvalidInput(
            N_(
                "Your answer contains a character that cannot be used (a control character, "
                "or text that was not sent as UTF-8). Type it again."
            ),
            "bad_character",
        )
    if has_markup(words):
        raise InvalidInput(
            N_("Write your answer as plain text, without HTML tags."), "html_not_allowed"
        )
    # Spaces and blank lines do not make an answer longer than its words.
    if len(" ".join(words.split())) < settings.min_length:
        raise InvalidInput(
            NP_(
                "Your answer is too short: write at least %(num)s character.",
                "Your answer is too short: write at least %(num)s characters.",
            ),
            "answer_too_short",
            num=settings.min_length,
        )
    if len(words) > settings.max_length:
        raise InvalidInput(
            NP_(
                "Your answer is too long: at most %(num)s character.",
                "Your answer is too long: at most %(num)s characters.",
            ),
            "answer_too_long",
            num=settings.max_length,
        )
    return words


class Opinion(StepKind[OpinionSettings]):
    name = "opinion"
    noun = N_("opinion")
    label = N_("Ask for their opinion")
    completed_by = CompletedBy.SUBMISSION
    settings_model = OpinionSettings
    form_fields: ClassVar[Mapping[str, int]] = {
        "question": QUESTION_LENGTH,
        "min_length": 12,
        "max_length": 12,
    }
    submission_fields: ClassVar[Mapping[str, int]] = {"answer": LONGEST}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"answer"})
    done_message = N_("Thank you! Your answer to “%(step)s” is saved.")

    def configure(
        self, brand: Brand, step_public_id: str, raw: Mapping[str, object]
    ) -> dict[str, Any]:
        question = question_setting(raw)
        limits = N_(
            "The shortest answer allowed must be from 1 to 1000 characters, "
            "and the longest from 1 to 5000."
        )
        shortest = number_setting(
            raw, "min_length", default=SHORTEST, low=1, high=1000, message=limits
        )
        longest = number_setting(
            raw, "max_length", default=LONGEST_DEFAULT, low=1, high=LONGEST, message=limits
        )
        if shortest > longest:
            raise InvalidInput(
                N_("The shortest answer allowed cannot be longer than the longest."),
                "length_limits_crossed",
            )
        return OpinionSettings(
            question=question, min_length=shortest, max_length=longest
        ).model_dump()

    async def submit(self, attempt: Attempt, form: Mapping[str, str]) -> bool:
        words = check_words(form.get("answer", ""), self.settings(attempt.step))
        await answers.save_words(attempt.entry, attempt.step, words, attempt.now)
        return True

    def participant_view(self, tokens: Tokens, entry: Entry, step: Step) -> dict[str, Any]:
        settings = self.settings(step)
        return {
            "question": settings.question,
            "min_length": settings.min_length,
            "max_length": settings.max_length,
        }


OPINION = Opinion()
