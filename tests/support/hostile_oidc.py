"""An OpenID Connect provider that does what it is told, including what a correct one
never does: a small Starlette app signing its tokens with joserfc.

Honest by default (discovery, authorization code with PKCE S256 enforced, ID tokens,
userinfo, JWKS, RFC 9207 ``iss`` on the authorization response). A test sets what goes
wrong in ``provider.behaviour`` and reads what our client sent in ``provider.seen``.
After the relying-party conformance tests of the OpenID Foundation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "gymkana-test-client"
CLIENT_SECRET = "hostile-secret-" + "s" * 20
# Removes a claim from what would otherwise be sent.
DROP = object()


@dataclass
class Behaviour:
    """What the next answers get wrong. A fresh one is honest."""

    claims: dict[str, Any] = field(default_factory=dict)
    # "good", "none", "hs256-public-key", "other-key" (right kid, wrong key),
    # "unpublished-key" (a kid the JWKS never shows)
    signing: str = "good"
    userinfo: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    # The RFC 9207 iss sent back with the code; DROP sends none.
    response_iss: Any = None
    omit_id_token: bool = False
    code_expired: bool = False


@dataclass
class Person:
    subject: str
    email: str | None = None
    email_verified: bool = True
    name: str = "Ana Hostil"


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    person: Person


class HostileProvider:
    """One app serving several tenants: each is its own issuer, at /<tenant>."""

    def __init__(self) -> None:
        self.base = ""
        self.key = _new_key("key-1")
        self.behaviour: dict[str, Behaviour] = {}
        self.person = Person(subject="hostile-subject-1")
        self.seen: dict[str, Any] = {}
        self.jwks_fetches: dict[str, int] = {}
        self._codes: dict[str, Code] = {}
        self._tokens: dict[str, Person] = {}
        self.app = Starlette(
            routes=[
                Route("/{tenant}/.well-known/openid-configuration", self.metadata),
                Route("/{tenant}/authorize", self.authorize),
                Route("/{tenant}/token", self.token, methods=["POST"]),
                Route("/{tenant}/userinfo", self.userinfo),
                Route("/{tenant}/jwks", self.jwks),
            ]
        )

    def issuer(self, tenant: str) -> str:
        return f"{self.base}/{tenant}"

    def act(self, tenant: str) -> Behaviour:
        return self.behaviour.setdefault(tenant, Behaviour())

    def rotate_keys(self) -> None:
        """A new signing key replaces the old one, under a new key id."""
        number = int(str(self.key.kid).rsplit("-", 1)[1]) + 1
        self.key = _new_key(f"key-{number}")

    async def metadata(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        issuer = self.issuer(tenant)
        document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            # A hostile provider happily offers what must never be accepted.
            "id_token_signing_alg_values_supported": ["RS256", "none", "HS256"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            **self.act(tenant).metadata,
        }
        return JSONResponse(document)

    async def authorize(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        params = dict(request.query_params)
        self.seen["authorize"] = params
        redirect_uri = params["redirect_uri"]
        if params.get("client_id") != CLIENT_ID or params.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = Code(
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            nonce=params.get("nonce"),
            challenge=params.get("code_challenge")
            if params.get("code_challenge_method") == "S256"
            else None,
            person=self.person,
        )
        answer = {"code": code, "state": params.get("state", "")}
        iss = self.act(tenant).response_iss
        if iss is None:
            answer["iss"] = self.issuer(tenant)
        elif iss is not DROP:
            answer["iss"] = iss
        return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", status_code=302)

    async def token(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        behaviour = self.act(tenant)
        form = dict(await request.form())
        self.seen["token"] = form
        client_id, secret = _client_credentials(request, form)
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        code = self._codes.pop(str(form.get("code", "")), None)
        if code is None or behaviour.code_expired or code.redirect_uri != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if code.challenge is None or _s256(str(form.get("code_verifier", ""))) != code.challenge:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                status_code=400,
            )
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = code.person
        answer: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if not behaviour.omit_id_token:
            answer["id_token"] = self._id_token(tenant, code)
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    def _id_token(self, tenant: str, code: Code) -> str:
        behaviour = self.act(tenant)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer(tenant),
            "sub": code.person.subject,
            "aud": code.client_id,
            "exp": now + 300,
            "iat": now,
            "nonce": code.nonce,
            "name": code.person.name,
        }
        for name, value in behaviour.claims.items():
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        return sign(claims, behaviour.signing, self.key)

    async def userinfo(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        person = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if person is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        answer: dict[str, Any] = {"sub": person.subject, "name": person.name}
        if person.email:
            answer |= {"email": person.email, "email_verified": person.email_verified}
        answer |= self.act(tenant).userinfo
        return JSONResponse(answer)

    async def jwks(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        self.jwks_fetches[tenant] = self.jwks_fetches.get(tenant, 0) + 1
        return JSONResponse(KeySet([self.key]).as_dict(private=False))


def sign(claims: dict[str, Any], how: str, key: RSAKey) -> str:
    """An ID token signed the way a test asks for."""
    if how == "good":
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
    if how == "none":
        return ".".join([_b64({"alg": "none", "typ": "JWT", "kid": key.kid}), _b64(claims), ""])
    if how == "hs256-public-key":
        # The classic confusion: HMAC keyed with the provider's public key, which
        # anyone can download.
        public = json.dumps(key.as_dict(private=False), sort_keys=True).encode()
        secret = OctKey.import_key(public)
        return jwt.encode({"alg": "HS256", "kid": key.kid}, claims, secret, algorithms=["HS256"])
    if how == "other-key":
        stranger = _new_key(str(key.kid))
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, stranger)
    if how == "unpublished-key":
        ghost = _new_key("ghost-key")
        return jwt.encode({"alg": "RS256", "kid": ghost.kid}, claims, ghost)
    raise ValueError(f"unknown signing {how!r}")


def _new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _client_credentials(request: Request, form: dict[str, Any]) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
        return unquote(client_id), unquote(secret)
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))
