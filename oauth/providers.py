"""The sign-in providers this installation offers, read from environment variables.

Google, Facebook, GitHub and X are known by name and appear once their client id and
secret are set. Any number of other OpenID Connect providers are added by name with
``OIDC_PROVIDERS=name1,name2`` and four variables each. Every variable is documented in
``.env.example``; a wrong or half-set provider stops the start-up with a message naming
the variable, never a broken button.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from contests.errors import ConfigurationError

Protocol = Literal["oidc", "oauth2"]

# Names that cannot be given to a generic provider: they are taken by a built-in one,
# or by the emailed sign-in link, whose routes live under the same paths.
RESERVED = frozenset({"google", "facebook", "github", "x", "email", "sent"})
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

GOOGLE_ISSUER = "https://accounts.google.com"


@dataclass(frozen=True)
class Endpoints:
    """Where an OAuth 2 provider (without discovery) authorises, issues tokens and answers."""

    authorize: str
    # Where the code is exchanged for the access token (the token endpoint).
    exchange: str
    api: str


# The documented endpoints; each one can be overridden (NAME_AUTHORIZE_URL, NAME_TOKEN_URL,
# NAME_API_URL), which is how the tests point them at a local authorization server.
OAUTH2_ENDPOINTS = {
    "facebook": Endpoints(
        authorize="https://www.facebook.com/v23.0/dialog/oauth",
        exchange="https://graph.facebook.com/v23.0/oauth/access_token",
        api="https://graph.facebook.com/v23.0/",
    ),
    "github": Endpoints(
        authorize="https://github.com/login/oauth/authorize",
        exchange="https://github.com/login/oauth/access_token",
        api="https://api.github.com/",
    ),
    "x": Endpoints(
        authorize="https://x.com/i/oauth2/authorize",
        exchange="https://api.x.com/2/oauth2/token",
        api="https://api.x.com/2/",
    ),
}

OAUTH2_LABELS = {"facebook": "Facebook", "github": "GitHub", "x": "X"}

# What each provider is asked for: enough for a name, an email where it has one, a picture.
OAUTH2_SCOPES = {
    "facebook": "public_profile email",
    "github": "read:user user:email",
    # X's users/me needs tweet.read beside users.read; it never shares an email address.
    "x": "users.read tweet.read",
}

# How the client authenticates at the token endpoint, as each provider documents it.
OAUTH2_CLIENT_AUTH = {
    "facebook": "client_secret_post",
    "github": "client_secret_post",
    "x": "client_secret_basic",
}

OIDC_SCOPE = "openid email profile"


@dataclass(frozen=True)
class Provider:
    """One way to sign in. ``name`` appears in URLs and, with the subject, keys identities."""

    name: str
    label: str
    protocol: Protocol
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    # OpenID Connect: the issuer identifier, compared exactly with the discovery
    # document's and the ID token's; ``issuers`` adds values a provider documents as
    # equivalent (Google's bare host name).
    issuer: str = ""
    issuers: tuple[str, ...] = ()
    # OAuth 2 without discovery.
    endpoints: Endpoints | None = None
    client_auth: str = "client_secret_basic"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    def accepts_issuer(self, value: object) -> bool:
        return isinstance(value, str) and value in (self.issuer, *self.issuers)


def environment(env_file: str = ".env") -> dict[str, str]:
    """The process environment over the `.env` file, as the settings read them."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    values.update(os.environ)
    return values


def load_providers(environ: Mapping[str, str]) -> dict[str, Provider]:
    """The configured providers by name, in the order their buttons appear."""
    providers: dict[str, Provider] = {}
    google = _credentials(environ, "GOOGLE")
    if google:
        issuer = _url(environ, "GOOGLE_ISSUER", GOOGLE_ISSUER)
        providers["google"] = Provider(
            name="google",
            label="Google",
            protocol="oidc",
            client_id=google[0],
            client_secret=google[1],
            scope=OIDC_SCOPE,
            issuer=issuer,
            # Google documents that its ID tokens may carry the issuer without the scheme.
            issuers=("accounts.google.com",) if issuer == GOOGLE_ISSUER else (),
        )
    for name, defaults in OAUTH2_ENDPOINTS.items():
        prefix = name.upper()
        credentials = _credentials(environ, prefix)
        if not credentials:
            continue
        providers[name] = Provider(
            name=name,
            label=OAUTH2_LABELS[name],
            protocol="oauth2",
            client_id=credentials[0],
            client_secret=credentials[1],
            scope=OAUTH2_SCOPES[name],
            endpoints=Endpoints(
                authorize=_url(environ, f"{prefix}_AUTHORIZE_URL", defaults.authorize),
                exchange=_url(environ, f"{prefix}_TOKEN_URL", defaults.exchange),
                # A trailing slash so that relative API paths join under it.
                api=_url(environ, f"{prefix}_API_URL", defaults.api).rstrip("/") + "/",
            ),
            client_auth=OAUTH2_CLIENT_AUTH[name],
        )
    for name in _generic_names(environ):
        prefix = f"OIDC_{name.upper()}"
        issuer = environ.get(f"{prefix}_ISSUER", "").strip()
        if not issuer:
            raise ConfigurationError(
                f"{prefix}_ISSUER is required because OIDC_PROVIDERS names {name}"
            )
        credentials = _credentials(environ, prefix)
        if not credentials:
            raise ConfigurationError(
                f"{prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET are required "
                f"because OIDC_PROVIDERS names {name}"
            )
        providers[name] = Provider(
            name=name,
            label=environ.get(f"{prefix}_LABEL", "").strip() or name.replace("_", " ").title(),
            protocol="oidc",
            client_id=credentials[0],
            client_secret=credentials[1],
            scope=OIDC_SCOPE,
            issuer=_url(environ, f"{prefix}_ISSUER", issuer),
        )
    return providers


def fixed_variables() -> dict[str, str]:
    """The variables with fixed names and their defaults (OIDC_<NAME>_* come on top)."""
    defaults = {"GOOGLE_CLIENT_ID": "", "GOOGLE_CLIENT_SECRET": "", "GOOGLE_ISSUER": GOOGLE_ISSUER}
    for name, endpoints in OAUTH2_ENDPOINTS.items():
        prefix = name.upper()
        defaults |= {
            f"{prefix}_CLIENT_ID": "",
            f"{prefix}_CLIENT_SECRET": "",
            f"{prefix}_AUTHORIZE_URL": endpoints.authorize,
            f"{prefix}_TOKEN_URL": endpoints.exchange,
            f"{prefix}_API_URL": endpoints.api,
        }
    defaults["OIDC_PROVIDERS"] = ""
    return defaults


def _generic_names(environ: Mapping[str, str]) -> list[str]:
    names: list[str] = []
    for raw in environ.get("OIDC_PROVIDERS", "").split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if not NAME.match(name):
            raise ConfigurationError(
                f"OIDC_PROVIDERS: {raw.strip()!r} is not a usable name "
                "(a letter, then letters, digits or underscores, at most 40)"
            )
        if name in RESERVED:
            raise ConfigurationError(f"OIDC_PROVIDERS: {name!r} is taken by a built-in provider")
        if name in names:
            raise ConfigurationError(f"OIDC_PROVIDERS: {name!r} is listed twice")
        names.append(name)
    return names


def _credentials(environ: Mapping[str, str], prefix: str) -> tuple[str, str] | None:
    client_id = environ.get(f"{prefix}_CLIENT_ID", "").strip()
    secret = environ.get(f"{prefix}_CLIENT_SECRET", "").strip()
    if bool(client_id) != bool(secret):
        missing = f"{prefix}_CLIENT_SECRET" if client_id else f"{prefix}_CLIENT_ID"
        raise ConfigurationError(f"{missing} is required: set both the client id and secret")
    return (client_id, secret) if client_id else None


def _url(environ: Mapping[str, str], variable: str, default: str) -> str:
    """An https URL; plain http only on this machine's loopback, for development and tests."""
    value = environ.get(variable, "").strip() or default
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and _loopback(parts.hostname):
        return value
    raise ConfigurationError(
        f"{variable}: must be an https:// URL (plain http:// only on 127.0.0.1 or localhost)"
    )


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
