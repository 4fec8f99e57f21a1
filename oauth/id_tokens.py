"""Checking an OpenID Connect ID token before anything in it is believed.

Authlib's own check takes the allowed algorithms from the provider's metadata (which may
list ``none``), does not compare ``aud`` with our client id unless asked, and puts no
bound on ``iat``. This module does the whole of OpenID Connect Core 3.1.3.7 itself, with
joserfc: pinned asymmetric algorithms, exact issuer, audience and authorised party,
expiry, a recent ``iat``, and the nonce of this very flow.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from oauth.errors import SignInFailed, unverified
from oauth.providers import Provider

# Only asymmetric signatures: "none" proves nothing, and an HMAC "signed" with a
# provider's public key is a forgery anyone can make.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# A token is used seconds after it is issued; an old one is a replay.
MAX_AGE = timedelta(minutes=5)
# Clocks on two machines never agree exactly.
LEEWAY = timedelta(seconds=60)

FetchKeys = Callable[[bool], Awaitable[Mapping[str, Any]]]


async def validate(
    id_token: str,
    *,
    provider: Provider,
    nonce: str,
    fetch_keys: FetchKeys,
    now: datetime,
) -> dict[str, Any]:
    """The token's claims, once every check passed; SignInFailed otherwise.

    ``fetch_keys(force)`` returns the provider's JWKS; a key id it does not know makes
    it fetch the set once more, since providers rotate keys.
    """
    claims = await _verified_claims(id_token, provider, fetch_keys)
    _check_claims(claims, provider=provider, nonce=nonce, now=now)
    return claims


async def _verified_claims(
    id_token: str, provider: Provider, fetch_keys: FetchKeys
) -> dict[str, Any]:
    try:
        try:
            token = jwt.decode(id_token, _key_set(await fetch_keys(False)), algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            token = jwt.decode(id_token, _key_set(await fetch_keys(True)), algorithms=ALGORITHMS)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise unverified(
            provider.label, f"ID token signature not accepted: {type(exc).__name__}: {exc}"
        ) from None
    return dict(token.claims)


def _key_set(jwks: Mapping[str, Any]) -> KeySet:
    return KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]


def _check_claims(
    claims: Mapping[str, Any], *, provider: Provider, nonce: str, now: datetime
) -> None:
    def refuse(detail: str) -> SignInFailed:
        return unverified(provider.label, f"ID token refused: {detail}")

    if not provider.accepts_issuer(claims.get("iss")):
        raise refuse(f"iss {claims.get('iss')!r} is not {provider.issuer!r}")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise refuse("no sub")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or provider.client_id not in audiences:
        raise refuse(f"aud {audience!r} does not name our client")
    party = claims.get("azp")
    if party is not None and party != provider.client_id:
        raise refuse(f"azp {party!r} is another client")
    # A token also meant for other clients is ours only if it says we are the party
    # it was issued to (Core 3.1.3.7, points 3 to 5).
    if len(audiences) > 1 and party != provider.client_id:
        raise refuse(f"aud {audiences!r} names other clients and azp is not ours")
    stamp = now.timestamp()
    expires = _number(claims.get("exp"))
    if expires is None or expires <= stamp - LEEWAY.total_seconds():
        raise refuse(f"exp {claims.get('exp')!r} has passed")
    issued = _number(claims.get("iat"))
    if issued is None:
        raise refuse("no iat")
    if issued < stamp - (MAX_AGE + LEEWAY).total_seconds():
        raise refuse(f"iat {issued} is more than {MAX_AGE} old")
    if issued > stamp + LEEWAY.total_seconds():
        raise refuse(f"iat {issued} is in the future")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise refuse("nonce does not match this sign-in")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
