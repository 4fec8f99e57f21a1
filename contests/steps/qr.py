"""QR steps: a code printed in a shop or shown on a screen at an event, scanned with the
participant's phone.

Every qr step has a secret of its own, made when the step is created and kept in its
settings; every code of the step is an HMAC under that secret, so a code of one step
proves nothing for another (nor for another contest's). A step's code is checked by
the step alone: no application-wide key is needed to complete it.

- A printed code never changes: the QR is the step's scan address with that code.
- A rotating code, for a screen, changes every ``rotate_seconds`` (a time-based code
  like TOTP: an HMAC of the period's number), and is accepted in the period before and
  after its own, so a photo of the screen shared online stops working within two
  periods.
- Signing in may take longer than that. So a valid rotating code, when scanned, is
  exchanged for a *claim*: a code that names the moment of the scan (and, when the
  scanner already has an entry, that entry), good for ``CLAIM_SECONDS``, that the scan
  page carries through sign-in and entering to the button that completes the step.
  A claim made for an entry serves that entry only; one made for someone not signed in
  or not entered yet serves whoever finishes with it within its lifetime.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from contests.entries import completed_step_ids, entry_of, require_active, require_unlocked
from contests.errors import N_, InvalidInput, NotAllowed, NotFound
from contests.lifecycle import require_accepting
from contests.models import Brand, Contest, Entry, Participant, Step
from contests.steps.kind import Attempt, CompletedBy, StepKind

# Long enough to ask for an emailed sign-in link, open it and enter the contest.
CLAIM_SECONDS = 30 * 60
SHORTEST_PERIOD, LONGEST_PERIOD = 10, 600
# How far back an old rotating code is recognised as one (to say "it has changed"
# rather than "not valid"); older ones are simply not valid.
RECOGNISED_SECONDS = 60 * 60
# Longer than any code or claim this module makes: anything longer is refused unread.
MAX_CODE = 120
_CLAIM = re.compile(r"(?P<issued>[0-9]{1,12})\.(?P<entry>[A-Za-z0-9_-]{0,32})\.(?P<mac>[\w-]{22})")


class QrSettings(BaseModel):
    secret: str = Field(pattern=r"^[0-9a-f]{64}$")
    # 0: a printed code that never changes; otherwise the period of a rotating code.
    rotate_seconds: int = Field(default=0, ge=0, le=LONGEST_PERIOD)


@dataclass(frozen=True)
class Proof:
    """What a scan proves, as the scan page carries it on: the printed code, or a claim
    (with the moment it stops being good)."""

    code: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ScreenCode:
    """The code a step's QR shows now, and in how many seconds it changes (None: never)."""

    code: str
    changes_in: int | None


_INVALID = N_(
    "This QR code is not valid for this step: it may have been cut or changed. Scan the code again."
)


def _invalid() -> InvalidInput:
    return InvalidInput(_INVALID, "qr_invalid")


class Qr(StepKind[QrSettings]):
    name = "qr"
    noun = N_("QR code")
    label = N_("Scan a QR code in a shop or at an event")
    completed_by = CompletedBy.SUBMISSION
    settings_model = QrSettings
    form_fields: ClassVar[Mapping[str, int]] = {"rotate_seconds": 12}
    submission_fields: ClassVar[Mapping[str, int]] = {"proof": MAX_CODE}
    wrong_answer = _INVALID

    def configure(
        self, brand: Brand, step_public_id: str, raw: Mapping[str, object]
    ) -> dict[str, Any]:
        given = str(raw.get("rotate_seconds") or "").strip()
        period = int(given) if re.fullmatch(r"[0-9]{1,4}", given) else -1 if given else 0
        if period and not SHORTEST_PERIOD <= period <= LONGEST_PERIOD:
            raise InvalidInput(
                N_(
                    "A rotating code changes every %(shortest)s to %(longest)s seconds; "
                    "leave it empty for a printed code."
                ),
                "bad_rotation",
                shortest=SHORTEST_PERIOD,
                longest=LONGEST_PERIOD,
            )
        return QrSettings(secret=secrets.token_hex(32), rotate_seconds=period).model_dump()

    def reconfigure(self, brand: Brand, step: Step, raw: Mapping[str, object]) -> dict[str, Any]:
        # The step keeps its key: the codes already printed go on working.
        period = self.configure(brand, step.public_id, raw)["rotate_seconds"]
        return QrSettings(secret=self.settings(step).secret, rotate_seconds=period).model_dump()

    def copy_settings(self, step: Step) -> dict[str, Any]:
        # A copy's codes must not open the original's step, nor the other way round.
        period = self.settings(step).rotate_seconds
        return QrSettings(secret=secrets.token_hex(32), rotate_seconds=period).model_dump()

    async def submit(self, attempt: Attempt, form: Mapping[str, str]) -> bool:
        self.check(attempt.step, form.get("proof", ""), attempt.now, attempt.entry.public_id)
        return True

    # --- The codes ------------------------------------------------------------------

    def _mac(self, step: Step, message: str, length: int) -> str:
        key = bytes.fromhex(self.settings(step).secret)
        digest = hmac.new(key, f"{step.public_id}:{message}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:length]

    def printed_code(self, step: Step) -> str:
        return self._mac(step, "printed", 22)

    def rotating_code(self, step: Step, period: int) -> str:
        return self._mac(step, f"rotating:{period}", 12)

    def screen_code(self, step: Step, now: datetime) -> ScreenCode:
        """What the step's QR shows at ``now``."""
        seconds = self.settings(step).rotate_seconds
        if not seconds:
            return ScreenCode(self.printed_code(step), None)
        moment = int(now.timestamp())
        return ScreenCode(self.rotating_code(step, moment // seconds), seconds - moment % seconds)

    def claim(self, step: Step, now: datetime, entry: str = "") -> str:
        """A claim that the step's rotating code was scanned at ``now`` (by ``entry``)."""
        issued = str(int(now.timestamp()))
        return f"{issued}.{entry}.{self._mac(step, f'claim:{issued}:{entry}', 22)}"

    def check(self, step: Step, code: str, now: datetime, holder: str | None) -> Proof:
        """What ``code`` proves for ``step`` at ``now``; InvalidInput or NotAllowed if
        nothing. ``holder`` is the entry finishing the step: its public id, "" for someone
        signed in without an entry, None for someone not signed in yet (a claim made for
        an entry is refused to anyone else, and is checked again once they sign in).
        A rotating code becomes a claim; a printed code or a claim is kept as it is."""
        if len(code) > MAX_CODE or not code.isascii():
            raise _invalid()
        seconds = self.settings(step).rotate_seconds
        if not seconds:
            if hmac.compare_digest(code, self.printed_code(step)):
                return Proof(code)
            raise _invalid()
        if "." in code:
            return self._check_claim(step, code, now, holder)
        period = int(now.timestamp()) // seconds
        # The period before and after too: the scan may be slow, the clocks a little apart.
        if any(self._matches(step, code, p) for p in (period - 1, period, period + 1)):
            return Proof(self.claim(step, now, holder or ""), _claim_ends(now.timestamp(), now))
        oldest = period - RECOGNISED_SECONDS // seconds
        if any(self._matches(step, code, p) for p in range(oldest, period - 1)):
            raise InvalidInput(
                N_(
                    "This QR code has changed since it was shown: it only works for a "
                    "moment. Scan the code on the screen again."
                ),
                "qr_changed",
            )
        raise _invalid()

    def _matches(self, step: Step, code: str, period: int) -> bool:
        return hmac.compare_digest(code, self.rotating_code(step, period))

    def _check_claim(self, step: Step, claim: str, now: datetime, holder: str | None) -> Proof:
        parts = _CLAIM.fullmatch(claim)
        if parts is None:
            raise _invalid()
        issued, entry = parts["issued"], parts["entry"]
        # Signed as written: the same moment written otherwise ("0" in front) is not valid.
        expected = self._mac(step, f"claim:{issued}:{entry}", 22)
        if not hmac.compare_digest(parts["mac"], expected):
            raise _invalid()
        age = now.timestamp() - int(issued)
        # A minute ahead is a clock apart; more is a claim this step never made.
        if not -60 <= age <= CLAIM_SECONDS:
            raise InvalidInput(
                N_(
                    "Too much time has passed since you scanned this QR code. "
                    "Scan it again to finish the step."
                ),
                "qr_claim_expired",
            )
        if entry and holder is not None and entry != holder:
            raise NotAllowed(
                N_("This link was made for someone else's scan: scan the QR code yourself."),
                "qr_not_yours",
            )
        return Proof(claim, _claim_ends(int(issued), now))


def _claim_ends(issued: float, now: datetime) -> datetime:
    return datetime.fromtimestamp(int(issued) + CLAIM_SECONDS, now.tzinfo)


QR = Qr()


@dataclass(frozen=True)
class Scan:
    """The scan page: what was scanned, and how far the person is with it."""

    contest: Contest
    step: Step
    entry: Entry | None
    proof: Proof
    done: bool


async def qr_step(contest: Contest, step_public_id: str) -> Step:
    step = await Step.filter(contest=contest, public_id=step_public_id, kind=QR.name).first()
    if step is None:
        raise NotFound(N_("This QR code is not one of this contest's steps."), "qr_not_found")
    return step


async def scan(
    contest: Contest,
    step_public_id: str,
    code: str,
    participant: Participant | None,
    now: datetime,
) -> Scan:
    """Check a scanned code without recording anything; the page's button completes
    the step through the participant's step form."""
    step = await qr_step(contest, step_public_id)
    require_accepting(contest, now)
    entry = await entry_of(contest, participant)
    holder = None if participant is None else entry.public_id if entry else ""
    proof = QR.check(step, code, now, holder)
    done = False
    if entry is not None:
        require_active(entry)
        completed = await completed_step_ids(entry)
        done = step.id in completed
        if not done:
            require_unlocked(step, completed)
    return Scan(contest, step, entry, proof, done)
