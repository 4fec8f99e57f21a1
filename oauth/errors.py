"""Why a sign-in with a provider did not complete, said for the person and for the operator.

The message is for the person trying to sign in (translated when shown); ``detail`` is
for the operator's log only, since what exactly failed in a token helps an attacker
more than it helps the person.
"""

from __future__ import annotations

from typing import Any

from contests.errors import N_, GymkanaError

CANCELLED = N_("You cancelled signing in with %(provider)s. No problem: choose how to sign in.")
PROVIDER_FAILED = N_(
    "%(provider)s could not sign you in just now. Try again, or choose another way to sign in."
)
EXPIRED = N_(
    "This sign-in took too long or was started in another window, so we stopped it. "
    "Please start again."
)
UNVERIFIED = N_(
    "We could not confirm your sign-in with %(provider)s, so we stopped it to keep your "
    "account safe. Try again, or choose another way to sign in."
)
UNKNOWN = N_("That way of signing in is not available here. Choose one of these.")


class SignInFailed(GymkanaError):
    """A sign-in with a provider that stopped; nobody is signed in by it."""

    kind = "invalid"

    def __init__(self, message: str, code: str, *, detail: str = "", **params: Any) -> None:
        super().__init__(message, code, **params)
        self.detail = detail
        # Set once the flow's state is known: a failed link keeps its account signed in.
        self.linking = False


class UnknownProvider(SignInFailed):
    kind = "not_found"

    def __init__(self, name: str) -> None:
        super().__init__(UNKNOWN, "unknown_provider", detail=f"no provider named {name!r}")


def cancelled(label: str, detail: str) -> SignInFailed:
    return SignInFailed(CANCELLED, "sign_in_cancelled", detail=detail, provider=label)


def provider_failed(label: str, detail: str) -> SignInFailed:
    return SignInFailed(PROVIDER_FAILED, "provider_error", detail=detail, provider=label)


def expired(detail: str) -> SignInFailed:
    return SignInFailed(EXPIRED, "sign_in_expired", detail=detail)


def unverified(label: str, detail: str) -> SignInFailed:
    return SignInFailed(UNVERIFIED, "sign_in_unverified", detail=detail, provider=label)
