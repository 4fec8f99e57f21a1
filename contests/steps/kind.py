"""What every step kind says about itself: its settings, how it is completed, what the
participant sees, and what personal data it keeps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from contests.errors import N_, InvalidInput
from contests.models import Brand, Contest, Entry, Evidence, Step
from contests.tokens import Tokens

SettingsT = TypeVar("SettingsT", bound=BaseModel)
QUESTION_LENGTH = 300


class CompletedBy(StrEnum):
    """How a step gets done: a form on the contest page, evidence reported from elsewhere
    that a worker verifies later, or what other people do."""

    SUBMISSION = "submission"
    EVIDENCE = "evidence"
    # Friends who take part through the participant's link (contests/referrals.py).
    OTHERS = "others"


def question_setting(raw: Mapping[str, object]) -> str:
    """The question a step asks, on one line; InvalidInput when missing or too long."""
    question = " ".join(str(raw.get("question") or "").split())
    if not question:
        raise InvalidInput(N_("The step needs its question."), "question_required")
    if len(question) > QUESTION_LENGTH:
        raise InvalidInput(
            N_("The question is too long (at most 300 characters)."), "question_too_long"
        )
    return question


def number_setting(
    raw: Mapping[str, object], name: str, *, default: int, low: int, high: int, message: str
) -> int:
    """A whole-number setting from ``low`` to ``high``, ``default`` when left empty;
    InvalidInput with ``message`` otherwise."""
    given = str(raw.get(name) or "").strip()
    try:
        value = default if not given else int(given)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise InvalidInput(message, f"bad_{name}")
    return value


@dataclass(frozen=True)
class Attempt:
    """A participant submitting a step from the contest page."""

    contest: Contest
    entry: Entry
    step: Step
    now: datetime


class StepKind(Generic[SettingsT]):
    """The rules of one kind of step. Subclasses set the class attributes and override
    what their way of completion needs; the core never asks which kind it holds."""

    name: ClassVar[str]
    # Message ids, translated when rendered: the kind in a table ("visit"), and what
    # choosing it means in the console's form ("Visit a page of your site").
    noun: ClassVar[str]
    label: ClassVar[str]
    completed_by: ClassVar[CompletedBy]
    settings_model: type[SettingsT]
    # The console form's fields for this kind, with their longest accepted length.
    form_fields: ClassVar[Mapping[str, int]] = {}
    # The fields a participant submits from the contest page, with their longest length.
    submission_fields: ClassVar[Mapping[str, int]] = {}
    # Those of either kind of field that hold text of several lines (a list, an opinion).
    multiline_fields: ClassVar[frozenset[str]] = frozenset()
    # Said to the participant when a submission is not right.
    wrong_answer: ClassVar[str] = N_("That is not right. Look again on the brand's site.")
    # Said to the participant when a submission completes the step (“%(step)s”: its title).
    done_message: ClassVar[str] = N_("Well found! “%(step)s” is done.")
    # False when completing it proves nothing (the participant's word alone): the
    # marketer sees its points as unverified, and it credits no referral.
    proves: ClassVar[bool] = True

    def configure(
        self, brand: Brand, step_public_id: str, raw: Mapping[str, object]
    ) -> dict[str, Any]:
        """The settings to store, from what the marketer typed; InvalidInput if wrong."""
        return self.parse(raw).model_dump(mode="json")

    def reconfigure(self, brand: Brand, step: Step, raw: Mapping[str, object]) -> dict[str, Any]:
        """New settings for an existing step, from its edit form. Kinds holding a secret
        the form does not show keep it (a code's hash, a QR step's key)."""
        return self.configure(brand, step.public_id, raw)

    def copy_settings(self, step: Step) -> dict[str, Any]:
        """The settings for a copy of the step in a duplicated contest. Kinds holding a
        key that signs the step's links or codes give the copy a fresh one."""
        return dict(step.config)

    def parse(self, raw: Mapping[str, object]) -> SettingsT:
        given = {key: value for key, value in raw.items() if value not in ("", None)}
        try:
            return self.settings_model.model_validate(given)
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else self.name
            raise InvalidInput(
                N_("Check the step's setting “%(field)s”: it is missing or not valid."),
                "bad_step_setting",
                field=field,
            ) from None

    def settings(self, step: Step) -> SettingsT:
        """The stored settings of a step of this kind."""
        return self.settings_model.model_validate(step.config)

    async def submit(self, attempt: Attempt, form: Mapping[str, str]) -> bool:
        """Check a submission; True when the step is done. Rules common to every kind
        (contest open, entry active, step unlocked) were checked before."""
        raise InvalidInput(
            N_("This step is not done from the contest page: follow its link."), "not_submitted"
        )

    def verdict(self, step: Step, evidence: Evidence) -> str:
        """Why the evidence does not prove the step, or "" when it does. A kind done
        from the contest page takes no evidence: any that arrives proves nothing."""
        return f"{self.name} steps are not proven by evidence"

    def least_seconds(self, step: Step) -> int:
        """The least time after entering in which a person could do this step; done
        sooner, the entry is flagged for review (contests/signals.py)."""
        return 0

    def participant_view(self, tokens: Tokens, entry: Entry, step: Step) -> dict[str, Any]:
        """What the participant's template needs beyond the step, for an open step."""
        return {}

    def personal_data(self, evidence: Evidence) -> dict[str, Any]:
        """What the evidence of this kind holds about the person, for their export."""
        return dict(evidence.data)
