"""A local authorization server speaking like GitHub, Facebook and X: their documented
endpoint paths, parameters and JSON shapes, each under its own prefix.

GitHub: ``/login/oauth/authorize``, ``/login/oauth/access_token`` (form-encoded unless
asked for JSON, errors as HTTP 200 with an ``error`` field), ``/user``, ``/user/emails``.
Facebook: ``/vXX.X/dialog/oauth``, ``/vXX.X/oauth/access_token``, Graph API ``/me`` with
``fields`` and ``appsecret_proof``. X: ``/i/oauth2/authorize`` (PKCE required),
``/2/oauth2/token`` (HTTP Basic client authentication), ``/2/users/me``.
The codes are single use and bound to the redirect URI and the PKCE challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENTS = {
    "github": ("github-client", "github-secret-" + "g" * 20),
    "facebook": ("facebook-app", "facebook-secret-" + "f" * 20),
    "x": ("x-client", "x-secret-" + "x" * 20),
}


@dataclass
class Account:
    """The person signed in at the provider, as its API describes them."""

    id: str
    name: str
    login: str = ""
    email: str | None = None
    # GitHub's /user/emails entries: (address, primary, verified)
    emails: list[tuple[str, bool, bool]] = field(default_factory=list)
    avatar: str = "https://avatars.example.com/u/1"


@dataclass
class Grant:
    provider: str
    redirect_uri: str
    challenge: str | None
    account: Account


class FakeProviders:
    def __init__(self) -> None:
        self.base = ""
        self.accounts: dict[str, Account] = {}
        self.deny: set[str] = set()
        self.fail_token: set[str] = set()
        self.seen: dict[str, dict[str, Any]] = {}
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, tuple[str, Account]] = {}
        self.app = Starlette(
            routes=[
                Route("/github/login/oauth/authorize", self.authorize("github")),
                Route("/github/login/oauth/access_token", self.github_token, methods=["POST"]),
                Route("/github/api/user", self.github_user),
                Route("/github/api/user/emails", self.github_emails),
                Route("/facebook/v23.0/dialog/oauth", self.authorize("facebook")),
                Route(
                    "/facebook/graph/v23.0/oauth/access_token",
                    self.facebook_token,
                    methods=["GET", "POST"],
                ),
                Route("/facebook/graph/v23.0/me", self.facebook_me),
                Route("/x/i/oauth2/authorize", self.authorize("x")),
                Route("/x/api/2/oauth2/token", self.x_token, methods=["POST"]),
                Route("/x/api/2/users/me", self.x_me),
            ]
        )

    def environ(self) -> dict[str, str]:
        """The variables that point Gymkana's GitHub, Facebook and X at this server."""
        base = self.base
        return {
            "GITHUB_CLIENT_ID": CLIENTS["github"][0],
            "GITHUB_CLIENT_SECRET": CLIENTS["github"][1],
            "GITHUB_AUTHORIZE_URL": f"{base}/github/login/oauth/authorize",
            "GITHUB_TOKEN_URL": f"{base}/github/login/oauth/access_token",
            "GITHUB_API_URL": f"{base}/github/api",
            "FACEBOOK_CLIENT_ID": CLIENTS["facebook"][0],
            "FACEBOOK_CLIENT_SECRET": CLIENTS["facebook"][1],
            "FACEBOOK_AUTHORIZE_URL": f"{base}/facebook/v23.0/dialog/oauth",
            "FACEBOOK_TOKEN_URL": f"{base}/facebook/graph/v23.0/oauth/access_token",
            "FACEBOOK_API_URL": f"{base}/facebook/graph/v23.0",
            "X_CLIENT_ID": CLIENTS["x"][0],
            "X_CLIENT_SECRET": CLIENTS["x"][1],
            "X_AUTHORIZE_URL": f"{base}/x/i/oauth2/authorize",
            "X_TOKEN_URL": f"{base}/x/api/2/oauth2/token",
            "X_API_URL": f"{base}/x/api/2",
        }

    def authorize(self, provider: str) -> Any:
        async def endpoint(request: Request) -> Response:
            params = dict(request.query_params)
            self.seen.setdefault(provider, {})["authorize"] = params
            if params.get("client_id") != CLIENTS[provider][0]:
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            redirect_uri = params["redirect_uri"]
            if provider == "x" and params.get("code_challenge_method") != "S256":
                # X's OAuth 2.0 requires PKCE.
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            answer = {"state": params.get("state", "")}
            if provider in self.deny:
                answer |= {"error": "access_denied", "error_description": "The user denied"}
            else:
                code = secrets.token_urlsafe(16)
                self._codes[code] = Grant(
                    provider=provider,
                    redirect_uri=redirect_uri,
                    challenge=params.get("code_challenge")
                    if params.get("code_challenge_method") == "S256"
                    else None,
                    account=self.accounts[provider],
                )
                answer["code"] = code
            # Facebook appends an empty fragment to its redirects.
            fragment = "#_=_" if provider == "facebook" else ""
            return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}{fragment}", 302)

        return endpoint

    def _redeem(self, provider: str, form: dict[str, Any]) -> Grant | None:
        grant = self._codes.pop(str(form.get("code", "")), None)
        if grant is None or grant.provider != provider or provider in self.fail_token:
            return None
        if grant.redirect_uri != form.get("redirect_uri"):
            return None
        if grant.challenge is not None:
            verifier = str(form.get("code_verifier", ""))
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                return None
        return grant

    def _issue(self, provider: str, grant: Grant) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (provider, grant.account)
        return token

    def _bearer(self, provider: str, request: Request) -> Account | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        owner = self._tokens.get(token)
        return owner[1] if owner and owner[0] == provider else None

    async def github_token(self, request: Request) -> Response:
        form = dict(await request.form())
        self.seen.setdefault("github", {})["token"] = form
        wants_json = "application/json" in request.headers.get("accept", "")
        if (form.get("client_id"), form.get("client_secret")) != CLIENTS["github"]:
            answer = {"error": "incorrect_client_credentials"}
        elif (grant := self._redeem("github", form)) is None:
            answer = {
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired.",
            }
        else:
            answer = {
                "access_token": self._issue("github", grant),
                "token_type": "bearer",
                "scope": "read:user,user:email",
            }
        # GitHub answers errors with HTTP 200 too, and in form encoding unless asked.
        if wants_json:
            return JSONResponse(answer)
        return Response(urlencode(answer), media_type="application/x-www-form-urlencoded")

    async def github_user(self, request: Request) -> Response:
        account = self._bearer("github", request)
        if account is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        return JSONResponse(
            {
                "login": account.login,
                "id": int(account.id),
                "avatar_url": account.avatar,
                "type": "User",
                "name": account.name,
                "email": account.email,
            }
        )

    async def github_emails(self, request: Request) -> Response:
        account = self._bearer("github", request)
        if account is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        return JSONResponse(
            [
                {"email": address, "primary": primary, "verified": verified, "visibility": None}
                for address, primary, verified in account.emails
            ]
        )

    async def facebook_token(self, request: Request) -> Response:
        form = dict(await request.form()) if request.method == "POST" else {}
        form |= dict(request.query_params)
        self.seen.setdefault("facebook", {})["token"] = form
        if (form.get("client_id"), form.get("client_secret")) != CLIENTS["facebook"]:
            return _graph_error("Error validating client secret.", 400)
        grant = self._redeem("facebook", form)
        if grant is None:
            return _graph_error("This authorization code has been used.", 400)
        return JSONResponse(
            {
                "access_token": self._issue("facebook", grant),
                "token_type": "bearer",
                "expires_in": 5183944,
            }
        )

    async def facebook_me(self, request: Request) -> Response:
        account = self._bearer("facebook", request)
        token = request.headers.get("authorization", "").partition(" ")[2]
        if account is None:
            return _graph_error("Invalid OAuth access token.", 401)
        proof = hmac.new(
            CLIENTS["facebook"][1].encode(), token.encode(), hashlib.sha256
        ).hexdigest()
        if request.query_params.get("appsecret_proof") != proof:
            return _graph_error("Invalid appsecret_proof provided in the API argument", 400)
        fields = request.query_params.get("fields", "id,name").split(",")
        profile: dict[str, Any] = {"id": account.id, "name": account.name}
        if account.email:
            profile["email"] = account.email
        profile["picture"] = {
            "data": {"height": 50, "is_silhouette": False, "url": account.avatar, "width": 50}
        }
        return JSONResponse({k: v for k, v in profile.items() if k in fields})

    async def x_token(self, request: Request) -> Response:
        form = dict(await request.form())
        self.seen.setdefault("x", {})["token"] = form
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        client = base64.b64decode(value).decode() if scheme.lower() == "basic" else ""
        client_id, _, secret = client.partition(":")
        if (unquote(client_id), unquote(secret)) != CLIENTS["x"]:
            return JSONResponse({"error": "unauthorized_client"}, status_code=401)
        grant = self._redeem("x", form)
        if grant is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Value passed for the "
                 "authorization code was invalid."},
                status_code=400,
            )  # fmt: skip
        return JSONResponse(
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": self._issue("x", grant),
                "scope": "users.read tweet.read",
            }
        )

    async def x_me(self, request: Request) -> Response:
        account = self._bearer("x", request)
        if account is None:
            return JSONResponse({"title": "Unauthorized", "status": 401}, status_code=401)
        data = {"id": account.id, "name": account.name, "username": account.login}
        if "profile_image_url" in request.query_params.get("user.fields", ""):
            data["profile_image_url"] = account.avatar
        return JSONResponse({"data": data})


def _graph_error(message: str, status: int) -> Response:
    return JSONResponse(
        {"error": {"message": message, "type": "OAuthException", "code": 190}},
        status_code=status,
    )
