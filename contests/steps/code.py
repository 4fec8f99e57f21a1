"""Code steps: a secret placed on a brand page that the participant types in.

Only a hash of the code is stored, salted with the step's public id; codes match
whatever the case and spacing they were typed with.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from contests.errors import N_, InvalidInput
from contests.models import Brand, Step
from contests.steps.kind import Attempt, CompletedBy, StepKind


class CodeSettings(BaseModel):
    code_hash: str = Field(min_length=64, max_length=64)


def normalise_code(code: str) -> str:
    return re.sub(r"\s+", "", code).casefold()


def code_digest(step_public_id: str, code: str) -> str:
    return hashlib.sha256(f"{step_public_id}:{normalise_code(code)}".encode()).hexdigest()


class Code(StepKind[CodeSettings]):
    name = "code"
    noun = N_("code")
    label = N_("Find a code on your site")
    completed_by = CompletedBy.SUBMISSION
    settings_model = CodeSettings
    form_fields: ClassVar[Mapping[str, int]] = {"code": 200}
    submission_fields: ClassVar[Mapping[str, int]] = {"code": 200}
    wrong_answer = N_("That is not the code. Look again, it is on the brand's page.")

    def configure(
        self, brand: Brand, step_public_id: str, raw: Mapping[str, object]
    ) -> dict[str, Any]:
        code = str(raw.get("code") or "")
        if not normalise_code(code):
            raise InvalidInput(N_("A code step needs the secret code."), "code_required")
        return CodeSettings(code_hash=code_digest(step_public_id, code)).model_dump()

    def reconfigure(self, brand: Brand, step: Step, raw: Mapping[str, object]) -> dict[str, Any]:
        # The form cannot show the code (only its hash is kept): left empty, it stays.
        if not normalise_code(str(raw.get("code") or "")):
            return dict(step.config)
        return self.configure(brand, step.public_id, raw)

    async def submit(self, attempt: Attempt, form: Mapping[str, str]) -> bool:
        code = form.get("code", "")
        if not normalise_code(code):
            raise InvalidInput(N_("Type the code you found."), "code_empty")
        expected = self.settings(attempt.step).code_hash
        return hmac.compare_digest(code_digest(attempt.step.public_id, code), expected)
