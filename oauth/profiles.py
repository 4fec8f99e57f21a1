"""What each provider tells about a person, reduced to the Profile Gymkana keeps.

Only the subject, a display name, the email and whether the provider itself says it is
verified, an avatar URL and a locale are kept. An email counts as verified only on the
provider's word: GitHub's ``verified`` flag on the primary address, OpenID Connect's
``email_verified``. Facebook's Graph API says nothing about it, so its email is kept as
unverified; X shares none.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Protocol

from contests.i18n import normalise
from contests.text import usable
from contests.urls import web_address
from oauth.errors import provider_failed, unverified
from oauth.identities import Profile
from oauth.providers import Provider


class ApiClient(Protocol):
    """The part of Authlib's client used here: a GET with the person's token."""

    async def get(self, url: str, **kwargs: Any) -> Any: ...


def from_openid(
    provider: Provider, claims: Mapping[str, Any], userinfo: Mapping[str, Any]
) -> Profile:
    """The ID token's claims, completed by the userinfo answer when the token lacks them."""
    merged = {**claims, **{k: v for k, v in userinfo.items() if v not in (None, "")}}
    # The verified flag belongs to the email it came with, never to the other source's.
    source = userinfo if _text(userinfo.get("email")) else claims
    given = " ".join(
        part for part in (_text(merged.get("given_name")), _text(merged.get("family_name"))) if part
    )
    return Profile(
        provider=provider.name,
        subject=_subject(claims["sub"], provider),
        email=_email(source.get("email")),
        email_verified=_email(source.get("email")) is not None
        and _says_verified(source.get("email_verified")),
        display_name=_name(
            merged.get("name"), given, merged.get("preferred_username"), merged.get("nickname")
        ),
        avatar_url=_url(merged.get("picture")),
        locale=normalise(_text(merged.get("locale"))),
    )


async def github(client: ApiClient, token: Mapping[str, Any], provider: Provider) -> Profile:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    user = await _json(client, "user", token, provider, headers=headers)
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise unverified(provider.label, f"GitHub /user without an id: {user!r:.200}")
    # /user shows only the public email, unverified; the emails endpoint says which
    # address is primary and whether GitHub verified it.
    emails = await _json(client, "user/emails", token, provider, headers=headers)
    primary: dict[str, Any] = {}
    if isinstance(emails, list):
        primary = next((e for e in emails if isinstance(e, dict) and e.get("primary") is True), {})
    email = _email(primary.get("email"))
    return Profile(
        provider=provider.name,
        subject=_subject(user["id"], provider),
        email=email,
        email_verified=email is not None and primary.get("verified") is True,
        display_name=_name(user.get("name"), user.get("login")),
        avatar_url=_url(user.get("avatar_url")),
    )


async def facebook(client: ApiClient, token: Mapping[str, Any], provider: Provider) -> Profile:
    access_token = str(token.get("access_token", ""))
    # appsecret_proof ties the call to our app secret, so a leaked token alone is not
    # enough (Facebook can require it for every Graph API call).
    proof = hmac.new(
        provider.client_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()
    me = await _json(
        client,
        "me",
        token,
        provider,
        params={"fields": "id,name,email,picture", "appsecret_proof": proof},
    )
    if not isinstance(me, dict) or not _text(me.get("id")):
        raise unverified(provider.label, f"Graph API /me without an id: {me!r:.200}")
    picture = me.get("picture")
    data = picture.get("data") if isinstance(picture, dict) else None
    return Profile(
        provider=provider.name,
        subject=_subject(me["id"], provider),
        email=_email(me.get("email")),
        email_verified=False,
        display_name=_name(me.get("name")),
        avatar_url=_url(data.get("url")) if isinstance(data, dict) else None,
    )


async def x(client: ApiClient, token: Mapping[str, Any], provider: Provider) -> Profile:
    answer = await _json(
        client, "users/me", token, provider, params={"user.fields": "profile_image_url"}
    )
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or not _text(data.get("id")):
        raise unverified(provider.label, f"X users/me without an id: {answer!r:.200}")
    return Profile(
        provider=provider.name,
        subject=_subject(data["id"], provider),
        display_name=_name(data.get("name"), data.get("username")),
        avatar_url=_url(data.get("profile_image_url")),
    )


OAUTH2 = {"github": github, "facebook": facebook, "x": x}


async def _json(
    client: ApiClient, path: str, token: Mapping[str, Any], provider: Provider, **kwargs: Any
) -> Any:
    response = await client.get(path, token=dict(token), **kwargs)
    if response.status_code != 200:
        raise provider_failed(
            provider.label, f"{path} answered HTTP {response.status_code}: {response.text[:200]}"
        )
    return response.json()


def _says_verified(value: object) -> bool:
    # Some providers send the flag as the string "true" in their userinfo answer.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _subject(value: object, provider: Provider) -> str:
    """Who the provider vouches for; an identifier no database can keep stops the sign-in."""
    subject = str(value)
    if not subject or len(subject) > 255 or not usable(subject):
        raise unverified(provider.label, f"unusable subject {subject!r:.100}")
    return subject


def _name(*candidates: object) -> str:
    """The first name given that can be shown as it is (see contests.text)."""
    for candidate in candidates:
        text = _text(candidate)[:120]
        if text and usable(text, name=True):
            return text
    return ""


def _email(value: object) -> str | None:
    text = _text(value)
    # It may reach a mail header: no line break, no control character.
    if "@" not in text or len(text) > 254 or not usable(text, name=True):
        return None
    return text


def _url(value: object) -> str | None:
    text = _text(value)
    if len(text) > 500 or web_address(text) is None:
        return None
    return text
