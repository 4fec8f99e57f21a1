"""Every kind of step, by name: the only list of them."""

from __future__ import annotations

from typing import Any

from contests.errors import N_, InvalidInput
from contests.models import Step
from contests.steps.code import Code
from contests.steps.kind import StepKind
from contests.steps.opinion import OPINION
from contests.steps.qr import QR
from contests.steps.quiz import QUIZ
from contests.steps.referral import ReferralStep
from contests.steps.share import Share
from contests.steps.visit import VISIT

KINDS: dict[str, StepKind[Any]] = {
    kind.name: kind for kind in (VISIT, Code(), QR, QUIZ, OPINION, ReferralStep(), Share())
}


def kind_named(name: str) -> StepKind[Any]:
    """The kind a marketer chose; InvalidInput for a name that is not one."""
    kind = KINDS.get(name)
    if kind is None:
        raise InvalidInput(N_("Choose the kind of step."), "bad_kind")
    return kind


def kind_of(step: Step) -> StepKind[Any]:
    return KINDS[step.kind]
