"""Share steps: the participant shares the contest's link, which carries their referral
code, on a social network, by email or by copying it.

Nobody can see what a person shares on another site, so the step counts on their word
(the honour system): the marketer sees its points as unverified, and doing it credits
no referral.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from contests.errors import N_
from contests.models import Brand, Entry, Step
from contests.steps.kind import Attempt, CompletedBy, StepKind
from contests.text import check_text
from contests.tokens import Tokens

MESSAGE_LENGTH = 280


class ShareSettings(BaseModel):
    # What the shared post says before the link; empty: a sentence naming the contest.
    message: str = Field(default="", max_length=MESSAGE_LENGTH)


class Share(StepKind[ShareSettings]):
    name = "share"
    noun = N_("share")
    label = N_("Share the contest on social networks")
    completed_by = CompletedBy.SUBMISSION
    proves = False
    settings_model = ShareSettings
    form_fields: ClassVar[Mapping[str, int]] = {"message": MESSAGE_LENGTH}

    def configure(
        self, brand: Brand, step_public_id: str, raw: Mapping[str, object]
    ) -> dict[str, Any]:
        message = str(raw.get("message") or "").strip()
        check_text(message, "message")
        return self.parse({"message": message}).model_dump()

    async def submit(self, attempt: Attempt, form: Mapping[str, str]) -> bool:
        # The participant says they shared it: that is all there is to check.
        return True

    def participant_view(self, tokens: Tokens, entry: Entry, step: Step) -> dict[str, Any]:
        return {"referral_code": entry.referral_code, "message": self.settings(step).message}
