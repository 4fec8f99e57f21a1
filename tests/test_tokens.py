"""Signed tokens: read exactly as itsdangerous reads them, whatever is sent."""

from __future__ import annotations

import time
from typing import Any

import pytest
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from contests.errors import InvalidInput
from contests.tokens import Tokens

SECRET = "token-secret-" + "z" * 40
MAX_AGE = 3600


class _SignedAt(TimestampSigner):
    at = 0

    def get_timestamp(self) -> int:
        return self.at


def _signed_at(purpose: str, payload: Any, at: int) -> str:
    serializer = URLSafeTimedSerializer(SECRET, salt=f"gymkana.{purpose}")
    _SignedAt.at = at
    serializer.signer = _SignedAt
    token: str = serializer.dumps(payload)
    return token


def _reference(token: str) -> Any:
    """What itsdangerous itself makes of ``token``: the payload or the error's code."""
    try:
        payload = URLSafeTimedSerializer(SECRET, salt="gymkana.visit").loads(token, max_age=MAX_AGE)
    except SignatureExpired:
        return "link_expired"
    except (BadSignature, UnicodeError):
        return "link_invalid"
    return payload if isinstance(payload, dict) else "link_invalid"


def _ours(token: str) -> Any:
    try:
        return Tokens(SECRET).read("visit", token, MAX_AGE)
    except InvalidInput as refused:
        return refused.code


def _variants(token: str) -> list[str]:
    """The token cut, lengthened and changed at every place, part by part."""
    variants = [token[:n] for n in range(0, len(token), 7)]
    variants += [token + suffix for suffix in (".", "=", "A", ".abc", "==")]
    for index in range(len(token)):
        for replacement in ("A", "_", ".", "="):
            if token[index] != replacement:
                variants.append(token[:index] + replacement + token[index + 1 :])
    return variants


def test_a_genuine_token_reads_as_itsdangerous_reads_it() -> None:
    payload = {"e": "entry", "s": "step", "t": 1.5, "n": "nonce"}
    token = Tokens(SECRET).sign("visit", payload)
    assert _ours(token) == _reference(token) == payload


def test_a_long_token_compressed_when_signed_reads_back() -> None:
    payload = {"page": "https://shop.example.com/" + "origins/" * 40}
    token = Tokens(SECRET).sign("visit", payload)
    assert token.startswith(".")
    assert _ours(token) == payload


@pytest.mark.parametrize(
    "payload", [{"e": "x", "n": "y"}, {"page": "https://shop.example.com/" + "a/" * 80}]
)
def test_every_change_to_a_token_is_judged_as_itsdangerous_judges_it(
    payload: dict[str, str],
) -> None:
    token = Tokens(SECRET).sign("visit", payload)
    variants = _variants(token)
    assert len(variants) > 200
    for variant in variants:
        assert _ours(variant) == _reference(variant), variant
    refused = [variant for variant in variants if _ours(variant) == "link_invalid"]
    assert len(refused) > len(variants) * 0.9


@pytest.mark.parametrize(
    ("age", "code"),
    [(MAX_AGE + 5, "link_expired"), (-5, "link_expired"), (MAX_AGE - 5, None)],
    ids=["too-old", "from-the-future", "in-time"],
)
def test_a_tokens_age_is_judged_as_itsdangerous_judges_it(age: int, code: str | None) -> None:
    token = _signed_at("visit", {"n": "x"}, int(time.time()) - age)
    assert _ours(token) == _reference(token) == (code or {"n": "x"})


def test_a_token_for_another_purpose_or_key_is_refused() -> None:
    elsewhere = [
        Tokens(SECRET).sign("claim", {"n": "x"}),
        Tokens("another-secret-" + "y" * 40).sign("visit", {"n": "x"}),
    ]
    for token in elsewhere:
        assert _ours(token) == _reference(token) == "link_invalid"


@pytest.mark.parametrize(
    "token", ["", ".", "..", "a.b.c", "x" * 600, "ñ.ñ.ñ", "\ud800", "a..b", "..."]
)
def test_garbage_is_refused_as_invalid(token: str) -> None:
    assert _ours(token) == "link_invalid"


def test_a_signed_value_that_is_not_an_object_is_refused() -> None:
    token = URLSafeTimedSerializer(SECRET, salt="gymkana.visit").dumps(["a", "list"])
    assert _ours(token) == "link_invalid"
