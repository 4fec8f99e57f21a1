"""Signing in with a provider, and linking one more to an account: the routes.

``GET /login/{provider}`` sends the browser to the provider, which sends it back to
``/auth/{provider}/callback``. ``POST /me/link/{provider}`` does the same for someone
already signed in, to add that identity to their account. Whatever goes wrong ends on
the sign-in page, in the person's language, with the reason and every way to try again;
the operator's log gets what exactly failed.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from contests.clock import utcnow
from contests.errors import N_, Conflict
from contests.i18n import translate
from oauth import identities
from oauth.errors import SignInFailed
from oauth.flow import Outcome, SignInFlows
from oauth.providers import Provider
from web.errors import status_of
from web.middleware import page_csp
from web.rendering import local_path, login_path, page, path, redirect
from web.session import checked_form, flash, request_locale, require_viewer, sign_in
from web.session import viewer as current_viewer

log = logging.getLogger("gymkana.sign_in")


def sign_in_flows(request: Request) -> SignInFlows:
    flows = request.app.state.sign_in_flows
    assert isinstance(flows, SignInFlows)
    return flows


def providers(request: Request) -> list[Provider]:
    """The configured providers, in the order their buttons appear."""
    return list(sign_in_flows(request).providers.values())


async def start_sign_in(request: Request) -> Response:
    name = request.path_params["provider"]
    next_path = local_path(request.query_params.get("next"))
    try:
        url = await sign_in_flows(request).start(
            request, name, next_path=next_path, link_to=None, now=utcnow()
        )
    except SignInFailed as exc:
        return await failed(request, name, exc, next_path)
    return _away(url)


async def start_link(request: Request) -> Response:
    account = path(request, "account")
    request.state.back = account
    participant = await require_viewer(request)
    await checked_form(request)
    name = request.path_params["provider"]
    try:
        url = await sign_in_flows(request).start(
            request, name, next_path=account, link_to=participant.public_id, now=utcnow()
        )
    except SignInFailed as exc:
        exc.linking = True
        return await failed(request, name, exc, account)
    return _away(url)


async def callback(request: Request) -> Response:
    name = request.path_params["provider"]
    try:
        outcome = await sign_in_flows(request).finish(request, name, now=utcnow())
    except SignInFailed as exc:
        return await failed(request, name, exc, path(request, "home"))
    if outcome.link_to is not None:
        return await _link(request, outcome)
    participant = await identities.sign_in(
        outcome.profile, locale=request_locale(request), now=utcnow()
    )
    await sign_in(request, participant)
    log.info("signed in with %s", outcome.provider.name)
    return redirect(local_path(outcome.next_path))


async def _link(request: Request, outcome: Outcome) -> Response:
    participant = await current_viewer(request)
    if participant is None or participant.public_id != outcome.link_to:
        # The browser that asked for the link is no longer signed in as that account.
        log.warning("link with %s refused: the session changed", outcome.provider.name)
        flash(request, N_("You signed out while linking. Sign in, then link again."), "error")
        return redirect(login_path(request, path(request, "account")))
    label = outcome.provider.label
    try:
        added = await identities.link_identity(
            participant, outcome.profile, now=utcnow(), label=label
        )
    except Conflict as exc:
        log.warning("link with %s refused: %s", outcome.provider.name, exc.code)
        flash(request, exc.message, "error", **exc.params)
        return redirect(path(request, "account"))
    if added:
        message = N_("Done! You can now also sign in with %(provider)s.")
    else:
        message = N_("That %(provider)s account was already linked to yours.")
    flash(request, message, "success" if added else "info", provider=label)
    return redirect(path(request, "account"))


async def failed(request: Request, name: str, exc: SignInFailed, next_path: str) -> Response:
    """The sign-in page with what went wrong; a failed link goes back to /me.

    Whoever was signed in stays signed in: these are GETs, which any site can make a
    browser send, so a failed or forged attempt must change nothing.
    """
    # The provider's name and the detail come from the address: only so much is logged.
    log.warning("sign-in with %.40r failed: %s: %.500s", name, exc.code, exc.detail)
    if exc.linking:
        flash(request, exc.message, "error", **exc.params)
        return redirect(path(request, "account"))
    return await page(
        request,
        "participant/login.html",
        status=status_of(exc),
        next=next_path,
        providers=providers(request),
        problem=translate(exc.message, request_locale(request), **exc.params),
        problem_code=exc.code,
    )


def account_csp(request: Request) -> str:
    """The page policy, letting the account page's link forms lead to the providers.

    Browsers apply ``form-action`` to where a form's answer redirects too.
    """
    return page_csp(sign_in_flows(request).form_action_origins())


def _away(url: str) -> Response:
    # The provider's address comes from our configuration, not from the request.
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


routes = [
    Route("/login/{provider}", start_sign_in, name="login_provider"),
    Route("/auth/{provider}/callback", callback, name="login_callback"),
    Route("/me/link/{provider}", start_link, methods=["POST"], name="link_provider"),
]
