"""Signing in by an emailed link, and signing out."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import jobs
from contests.brands import normalise_email
from contests.clock import utcnow
from oauth import email_links
from oauth.identities import Profile
from oauth.identities import sign_in as sign_in_identity
from web import forms
from web.links import links
from web.queue import enqueue
from web.ratelimit import client_address, rate_limit
from web.rendering import local_path, login_path, page, path, redirect
from web.session import checked_form, request_locale, sign_in, sign_out
from web.signin.providers import providers
from web.state import app_state


async def login_page(request: Request) -> Response:
    return await page(
        request,
        "participant/login.html",
        next=local_path(request.query_params.get("next")),
        providers=providers(request),
    )


async def request_link(request: Request) -> Response:
    next_path = local_path(request.query_params.get("next"))
    request.state.back = login_path(request, next_path)
    form = await checked_form(request)
    next_path = local_path(str(form.get("next", next_path)))
    request.state.back = login_path(request, next_path)
    email = forms.text(form, "email", 254)
    state = app_state(request)
    settings = state.settings
    await rate_limit(request, settings.sign_in_limit, "sign-in-client", client_address(request))
    # Only a well-formed address becomes a rate-limit key (and, after it, a link).
    address = normalise_email(email)
    await rate_limit(request, settings.sign_in_limit, "sign-in-address", address)
    message_id = await email_links.send_link(
        address,
        next_path=next_path,
        locale=request_locale(request),
        now=utcnow(),
        links=links(request),
        lifetime=timedelta(minutes=settings.sign_in_link_minutes),
        reply_to=settings.reply_to,
    )
    await enqueue(request, jobs.SEND_EMAIL, message_id)
    return redirect(path(request, "login_sent"))


async def link_sent(request: Request) -> Response:
    return await page(request, "participant/login_sent.html")


async def confirm_link(request: Request) -> Response:
    """Mail scanners open links: a GET only shows a button, the POST signs in."""
    link = await email_links.peek(request.path_params["token"], utcnow())
    return await page(request, "participant/login_confirm.html", email=link.email)


async def use_link(request: Request) -> Response:
    await checked_form(request)
    link = await email_links.redeem(request.path_params["token"], utcnow())
    participant = await sign_in_identity(
        Profile(
            provider=email_links.PROVIDER,
            subject=link.email,
            email=link.email,
            email_verified=True,
            locale=link.locale,
        ),
        locale=link.locale,
        now=utcnow(),
    )
    await sign_in(request, participant)
    return redirect(local_path(link.next_path))


async def logout(request: Request) -> Response:
    await checked_form(request)
    await sign_out(request)
    return redirect(path(request, "home"))


routes = [
    Route("/login", login_page, name="login"),
    Route("/login/email", request_link, methods=["POST"], name="login_email"),
    Route("/login/sent", link_sent, name="login_sent"),
    Route("/auth/email/{token}", confirm_link, name="email_link"),
    Route("/auth/email/{token}", use_link, methods=["POST"], name="email_link_use"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
