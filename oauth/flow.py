"""Signing in with a provider: the redirect out, the callback back, and our checks on top
of Authlib.

Authlib (its Starlette client) builds the authorization request, keeps the flow's
state, exchanges the code and calls the provider's APIs. What it leaves to us, and this
module does:

- PKCE with S256 on every provider, and a nonce on every OpenID Connect request;
- the flow's secrets (state, nonce, PKCE verifier, where to go next) kept in Redis,
  not in the cookie, taken out on first read (a state works once, even against a
  copied cookie) and refused after ``FLOW_LIFETIME``;
- the discovery document's ``issuer`` compared with the configured one;
- the RFC 9207 ``iss`` of the authorization response compared when sent, and required
  when the provider announces it;
- the ID token checked in full (``oauth.id_tokens``), an OpenID Connect token answer
  without one refused, and the userinfo answer's ``sub`` matched against the token's.

Every way this can fail ends in a SignInFailed with a message for the person and a
detail for the operator's log.
"""

from __future__ import annotations

import hmac
import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import authlib.deprecate
import httpx
from authlib.common.errors import AuthlibBaseError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request

from contests.errors import N_, Unavailable
from oauth import errors, id_tokens, profiles
from oauth.errors import SignInFailed, UnknownProvider
from oauth.identities import Profile
from oauth.providers import Provider

with warnings.catch_warnings():
    # Authlib 1.9 announces a move to the httpx2 fork; Gymkana runs on httpx. (Importing
    # authlib.deprecate first puts its own "always" filter behind this one.)
    warnings.filterwarnings(
        "ignore", "The httpx module is deprecated", authlib.deprecate.AuthlibDeprecationWarning
    )
    from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

log = logging.getLogger("gymkana.sign_in")

# Long enough to read a consent screen and type a password, short enough that a state
# left behind in a browser is soon useless.
FLOW_LIFETIME = timedelta(minutes=10)
HTTP_TIMEOUT = 10.0
# What a misbehaving provider can make us raise on the way; each becomes a SignInFailed.
PROVIDER_FAULTS = (AuthlibBaseError, httpx.HTTPError, ValueError, KeyError, TypeError)


@dataclass(frozen=True)
class Outcome:
    """A finished flow: who the provider vouched for, and what to do with it."""

    provider: Provider
    profile: Profile
    next_path: str
    # The public id of the account that asked to link this identity; None to sign in.
    link_to: str | None


class StateStore:
    """Authlib's cache interface over Redis, with the installation's key prefix.

    ``get`` removes what it reads, so only one of two callbacks with the same state
    gets the flow's secrets.
    """

    def __init__(self, redis: Callable[[], Redis | None], prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:sign-in:"

    def key(self, name: str) -> str:
        return self._prefix + name

    def _client(self) -> Redis:
        client = self._redis()
        if client is None:
            raise _unavailable("no Redis connection")
        return client

    async def get(self, name: str) -> bytes | None:
        try:
            value: bytes | None = await self._client().getdel(self.key(name))
        except (RedisError, OSError) as exc:
            raise _unavailable(str(exc)) from None
        return value

    async def set(self, name: str, value: str, expires: int) -> None:
        try:
            await self._client().set(self.key(name), value, ex=expires)
        except (RedisError, OSError) as exc:
            raise _unavailable(str(exc)) from None

    async def delete(self, name: str) -> None:
        try:
            await self._client().delete(self.key(name))
        except (RedisError, OSError) as exc:
            raise _unavailable(str(exc)) from None


def _unavailable(detail: str) -> Unavailable:
    log.error("sign-in state store unavailable: %s", detail)
    return Unavailable(
        N_("This is not available for a moment. Please try again in a minute."),
        "sign_in_unavailable",
    )


class SignInFlows:
    """The configured providers with one Authlib client each."""

    def __init__(self, providers: Mapping[str, Provider], *, base_url: str, store: StateStore):
        self.providers = dict(providers)
        self.base_url = base_url.rstrip("/")
        self.store = store
        self._oauth = OAuth(cache=store)
        self._clients: dict[str, StarletteOAuth2App] = {}
        for provider in self.providers.values():
            client = self._oauth.register(provider.name, **_client_settings(provider))
            # The flow's record in Redis lives no longer than the flow may take.
            client.framework.expires_in = int(FLOW_LIFETIME.total_seconds())
            self._clients[provider.name] = client

    def provider(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise UnknownProvider(name)
        return provider

    def callback_url(self, provider: Provider) -> str:
        # One callback per provider: a response can only be read as coming from the
        # provider it was sent to, which keeps a mix-up between providers out.
        return f"{self.base_url}/auth/{provider.name}/callback"

    async def start(
        self, request: Request, name: str, *, next_path: str, link_to: str | None, now: datetime
    ) -> str:
        """Remember a new flow for this browser; returns the provider's authorization URL."""
        provider = self.provider(name)
        client = self._clients[name]
        if provider.protocol == "oidc":
            await self._metadata(provider)
        redirect_uri = self.callback_url(provider)
        try:
            authorization = await client.create_authorization_url(redirect_uri)
        except PROVIDER_FAULTS as exc:
            raise errors.provider_failed(provider.label, f"authorization URL: {exc!r}") from None
        url = str(authorization.pop("url"))
        await client.save_authorize_data(
            request,
            redirect_uri=redirect_uri,
            started_at=now.timestamp(),
            next_path=next_path,
            link_to=link_to,
            **authorization,
        )
        return url

    async def finish(self, request: Request, name: str, *, now: datetime) -> Outcome:
        """Check the provider's answer and who it vouches for; SignInFailed otherwise."""
        provider = self.provider(name)
        client = self._clients[name]
        params = request.query_params
        state = params.get("state") or ""
        flow: dict[str, Any] | None = None
        if state:
            flow = await client.framework.get_state_data(request.session, state)
            await client.framework.clear_state_data(request.session, state)
        try:
            return await self._finish(provider, client, params, flow, now)
        except SignInFailed as exc:
            exc.linking = bool(flow and flow.get("link_to"))
            raise

    async def _finish(
        self,
        provider: Provider,
        client: StarletteOAuth2App,
        params: Mapping[str, str],
        flow: dict[str, Any] | None,
        now: datetime,
    ) -> Outcome:
        error = params.get("error")
        if error:
            detail = f"{error}: {params.get('error_description', '')}"
            if error == "access_denied":
                raise errors.cancelled(provider.label, detail)
            raise errors.provider_failed(provider.label, detail)
        if flow is None:
            raise errors.expired("state unknown, already used or from another browser")
        started = flow.get("started_at")
        if not isinstance(started, int | float) or now.timestamp() - started > (
            FLOW_LIFETIME.total_seconds()
        ):
            raise errors.expired(f"flow started at {started!r}, more than {FLOW_LIFETIME} ago")
        await self._check_response_issuer(provider, params)
        code = params.get("code")
        if not code:
            raise errors.provider_failed(provider.label, "callback without a code")
        try:
            token = await client.fetch_access_token(
                redirect_uri=flow["redirect_uri"],
                code=code,
                code_verifier=flow.get("code_verifier"),
            )
        except PROVIDER_FAULTS as exc:
            raise errors.provider_failed(provider.label, f"token endpoint: {exc!r}") from None
        if provider.protocol == "oidc":
            profile = await self._openid_profile(provider, client, token, flow, now)
        else:
            try:
                profile = await profiles.OAUTH2[provider.name](client, token, provider)
            except PROVIDER_FAULTS as exc:
                raise errors.provider_failed(provider.label, f"profile: {exc!r}") from None
        next_path = flow.get("next_path")
        link_to = flow.get("link_to")
        return Outcome(
            provider=provider,
            profile=profile,
            next_path=next_path if isinstance(next_path, str) else "/",
            link_to=link_to if isinstance(link_to, str) else None,
        )

    async def _metadata(self, provider: Provider) -> dict[str, Any]:
        """The discovery document, once its issuer is the one configured."""
        client = self._clients[provider.name]
        try:
            metadata: dict[str, Any] = await client.load_server_metadata()
        except PROVIDER_FAULTS as exc:
            raise errors.provider_failed(provider.label, f"discovery: {exc!r}") from None
        if metadata.get("issuer") != provider.issuer:
            # Forget it, so a corrected document is read again on the next attempt.
            client.server_metadata.clear()
            raise errors.unverified(
                provider.label,
                f"discovery issuer {metadata.get('issuer')!r} is not {provider.issuer!r}",
            )
        return metadata

    async def _check_response_issuer(self, provider: Provider, params: Mapping[str, str]) -> None:
        """RFC 9207: the authorization response names its issuer; it must be ours."""
        if provider.protocol != "oidc":
            return
        metadata = await self._metadata(provider)
        sent = params.get("iss")
        if sent is None:
            if metadata.get("authorization_response_iss_parameter_supported") is True:
                raise errors.unverified(provider.label, "authorization response without iss")
            return
        if not provider.accepts_issuer(sent):
            raise errors.unverified(
                provider.label, f"authorization response iss {sent!r} is not {provider.issuer!r}"
            )

    async def _openid_profile(
        self,
        provider: Provider,
        client: StarletteOAuth2App,
        token: Mapping[str, Any],
        flow: Mapping[str, Any],
        now: datetime,
    ) -> Profile:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise errors.unverified(provider.label, "token answer without an ID token")
        nonce = flow.get("nonce")
        if not isinstance(nonce, str):
            raise errors.expired("flow without a nonce")
        metadata = await self._metadata(provider)

        async def fetch_keys(force: bool) -> Mapping[str, Any]:
            keys: Mapping[str, Any] = await client.fetch_jwk_set(force=force)
            return keys

        try:
            claims = await id_tokens.validate(
                id_token, provider=provider, nonce=nonce, fetch_keys=fetch_keys, now=now
            )
        except PROVIDER_FAULTS as exc:
            raise errors.provider_failed(provider.label, f"keys: {exc!r}") from None
        userinfo: Mapping[str, Any] = {}
        if metadata.get("userinfo_endpoint"):
            try:
                userinfo = await client.userinfo(token=dict(token))
            except PROVIDER_FAULTS as exc:
                raise errors.provider_failed(provider.label, f"userinfo: {exc!r}") from None
            # Core 5.3.2: an answer about someone else is not an answer about this person.
            sent = userinfo.get("sub")
            if not isinstance(sent, str) or not hmac.compare_digest(
                sent.encode(), str(claims["sub"]).encode()
            ):
                raise errors.unverified(
                    provider.label, f"userinfo sub {sent!r} is not the ID token's"
                )
        return profiles.from_openid(provider, claims, userinfo)

    def form_action_origins(self) -> list[str]:
        """Where a form on our pages may send the browser to start a flow (for the CSP).

        An OpenID Connect provider's authorization endpoint is nearly always on its
        issuer's origin; once its discovery document has been read, that says for sure.
        No document is fetched here: a provider that is down must not slow a page.
        """
        origins: list[str] = []
        for provider in self.providers.values():
            if provider.endpoints is not None:
                urls = [provider.endpoints.authorize]
            else:
                known = self._clients[provider.name].server_metadata.get("authorization_endpoint")
                urls = [provider.issuer, *([known] if isinstance(known, str) else [])]
            for url in urls:
                parts = urlsplit(url)
                origin = f"{parts.scheme}://{parts.netloc}"
                if origin not in origins:
                    origins.append(origin)
        return origins


def _client_settings(provider: Provider) -> dict[str, Any]:
    client_kwargs: dict[str, Any] = {
        "scope": provider.scope,
        # PKCE everywhere: providers that do not know it ignore the parameters.
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": provider.client_auth,
        "timeout": HTTP_TIMEOUT,
    }
    settings: dict[str, Any] = {
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "client_kwargs": client_kwargs,
    }
    if provider.protocol == "oidc":
        settings["server_metadata_url"] = provider.discovery_url
    else:
        assert provider.endpoints is not None
        settings["authorize_url"] = provider.endpoints.authorize
        settings["access_token_url"] = provider.endpoints.exchange
        settings["api_base_url"] = provider.endpoints.api
    return settings
