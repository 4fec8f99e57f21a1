"""Quiz steps: one question whose answer is on the brand's site, answered by choosing
among answers or by typing it.

The right choices and the accepted answers stay on the server: the participant's page
gets the question and the choices only. Typed answers match whatever their case,
spacing, punctuation and accents. Each entry has a number of tries, counted in the
database (``contests.answers``); the contest page also limits how fast anyone sends them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from contests import answers
from contests.errors import N_, NP_, InvalidInput, NotAllowed
from contests.models import Brand, Completion, Entry, Step
from contests.steps.code import normalise_code
from contests.steps.kind import (
    QUESTION_LENGTH,
    Attempt,
    CompletedBy,
    StepKind,
    number_setting,
    question_setting,
)
from contests.tokens import Tokens

MAX_CHOICES = 6
MAX_ACCEPTED = 20
ANSWER_LENGTH = 200
DEFAULT_TRIES = 3
MAX_TRIES = 20


class QuizSettings(BaseModel):
    question: str = Field(min_length=1, max_length=QUESTION_LENGTH)
    # Choosing among answers: the choices, and the numbers (from 1) of the right ones.
    choices: list[str] = Field(default_factory=list, max_length=MAX_CHOICES)
    right: list[int] = Field(default_factory=list, max_length=MAX_CHOICES)
    # Typing the answer: every answer that counts.
    accepted: list[str] = Field(default_factory=list, max_length=MAX_ACCEPTED)
    max_attempts: int = Field(default=DEFAULT_TRIES, ge=1, le=MAX_TRIES)

    @property
    def multiple_choice(self) -> bool:
        return bool(self.choices)


def normalise_answer(text: str) -> str:
    """An answer as compared: no case, spaces, punctuation or accents (“¡Huila!” and
    “huila” are the same answer, and so are “Año” and “ano”)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        c
        for c in decomposed
        if not unicodedata.combining(c) and not unicodedata.category(c).startswith("P")
    )
    return normalise_code(kept)


def _choices(raw: Mapping[str, object]) -> tuple[list[str], list[int]]:
    """The choices the marketer filled in, in order, and which of them are right; a
    blank row between two choices is skipped."""
    choices: list[str] = []
    right: list[int] = []
    for number in range(1, MAX_CHOICES + 1):
        choice = " ".join(str(raw.get(f"choice_{number}") or "").split())
        if not choice:
            continue
        choices.append(choice)
        if str(raw.get(f"right_{number}") or "") in {"on", "yes", "true", "1"}:
            right.append(len(choices))
    return choices, right


def _accepted(raw: Mapping[str, object]) -> list[str]:
    """The accepted answers, one per line, without blank lines or repeats."""
    accepted: dict[str, str] = {}
    for line in str(raw.get("accepted") or "").splitlines():
        answer = " ".join(line.split())
        if normalise_answer(answer):
            accepted.setdefault(normalise_answer(answer), answer)
    return list(accepted.values())


class Quiz(StepKind[QuizSettings]):
    name = "quiz"
    noun = N_("quiz")
    label = N_("Ask a question answered on your site")
    completed_by = CompletedBy.SUBMISSION
    settings_model = QuizSettings
    form_fields: ClassVar[Mapping[str, int]] = {
        "question": QUESTION_LENGTH,
        "answer_mode": 10,
        **{f"choice_{n}": ANSWER_LENGTH for n in range(1, MAX_CHOICES + 1)},
        **{f"right_{n}": 4 for n in range(1, MAX_CHOICES + 1)},
        "accepted": 4000,
        "max_attempts": 12,
    }
    submission_fields: ClassVar[Mapping[str, int]] = {"choice": 4, "answer": ANSWER_LENGTH}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"accepted"})
    done_message = N_("Right answer! “%(step)s” is done.")

    def configure(
        self, brand: Brand, step_public_id: str, raw: Mapping[str, object]
    ) -> dict[str, Any]:
        question = question_setting(raw)
        mode = str(raw.get("answer_mode") or "choices")
        tries = number_setting(
            raw,
            "max_attempts",
            default=DEFAULT_TRIES,
            low=1,
            high=MAX_TRIES,
            message=N_("Tries per participant must be between 1 and 20."),
        )
        if mode == "choices":
            choices, right = _choices(raw)
            if len(choices) < 2:
                raise InvalidInput(
                    N_("A multiple-choice quiz needs at least two choices."), "quiz_choices"
                )
            if len({normalise_answer(c) for c in choices}) < len(choices):
                raise InvalidInput(N_("Two of the choices are the same."), "quiz_same_choice")
            if not right:
                raise InvalidInput(N_("Mark the right choice."), "quiz_no_right_choice")
            if len(right) == len(choices):
                raise InvalidInput(
                    N_("Not every choice can be right: leave at least one wrong."),
                    "quiz_all_right",
                )
            settings = QuizSettings(
                question=question, choices=choices, right=right, max_attempts=tries
            )
        elif mode == "text":
            accepted = _accepted(raw)
            if not accepted:
                raise InvalidInput(
                    N_("List the accepted answers, one per line."), "quiz_no_accepted"
                )
            if len(accepted) > MAX_ACCEPTED or any(len(a) > ANSWER_LENGTH for a in accepted):
                raise InvalidInput(
                    N_("List at most 20 accepted answers, each of at most 200 characters."),
                    "quiz_too_many_accepted",
                )
            settings = QuizSettings(question=question, accepted=accepted, max_attempts=tries)
        else:
            raise InvalidInput(
                N_("Choose how participants answer: choosing or typing."), "quiz_mode"
            )
        return settings.model_dump()

    def _is_right(self, settings: QuizSettings, form: Mapping[str, str]) -> bool:
        """Whether the answer sent is right; InvalidInput when nothing was answered, which
        costs no try."""
        if settings.multiple_choice:
            chosen = form.get("choice", "").strip()
            # isascii: "²" is a digit to Python, not a number to int().
            if not (chosen.isascii() and chosen.isdigit()) or not (
                1 <= int(chosen) <= len(settings.choices)
            ):
                raise InvalidInput(N_("Choose one of the answers."), "choice_missing")
            return int(chosen) in settings.right
        typed = normalise_answer(form.get("answer", ""))
        if not typed:
            raise InvalidInput(N_("Type your answer."), "answer_empty")
        return typed in {normalise_answer(answer) for answer in settings.accepted}

    async def submit(self, attempt: Attempt, form: Mapping[str, str]) -> bool:
        entry, step = attempt.entry, attempt.step
        if await Completion.filter(entry=entry, step=step).exists():
            return True
        settings = self.settings(step)
        if await answers.tries_used(entry, step) >= settings.max_attempts:
            raise answers.no_tries_left()
        right = self._is_right(settings, form)
        # Counted before the verdict, right or wrong: a try is a try.
        left = await answers.count_try(entry, step, settings.max_attempts, attempt.now)
        if right:
            return True
        if not left:
            raise NotAllowed(
                N_(
                    "That is not right, and it was your last try: this question can no "
                    "longer be answered."
                ),
                "no_tries_left",
            )
        raise InvalidInput(
            NP_(
                "That is not right. You have %(num)s try left.",
                "That is not right. You have %(num)s tries left.",
            ),
            "wrong_answer",
            num=left,
        )

    def participant_view(self, tokens: Tokens, entry: Entry, step: Step) -> dict[str, Any]:
        # Never the right choices nor the accepted answers: the page shows the question.
        settings = self.settings(step)
        return {
            "question": settings.question,
            "choices": settings.choices,
            "max_attempts": settings.max_attempts,
        }


QUIZ = Quiz()
