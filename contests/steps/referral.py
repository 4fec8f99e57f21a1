"""Referral steps: the participant brings friends with their personal link (or its QR).

A friend who enters through the link and then does a step of their own counts; the
step's points are given for each friend who counts, up to the step's limit. The rules of
who counts live in ``contests/referrals.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from contests.errors import N_
from contests.models import Entry, Step
from contests.referrals import KIND, ReferralSettings
from contests.steps.kind import CompletedBy, StepKind
from contests.tokens import Tokens


class ReferralStep(StepKind[ReferralSettings]):
    name = KIND
    noun = N_("referral")
    label = N_("Bring friends with a personal link")
    completed_by = CompletedBy.OTHERS
    settings_model = ReferralSettings
    form_fields: ClassVar[Mapping[str, int]] = {"max_referrals": 12}

    def participant_view(self, tokens: Tokens, entry: Entry, step: Step) -> dict[str, Any]:
        return {
            "referral_code": entry.referral_code,
            "max_referrals": self.settings(step).max_referrals,
        }
