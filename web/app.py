"""The Starlette application, composed: routes, middleware, lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from arq import create_pool
from arq.connections import RedisSettings
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount, Router
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from contests.db import tortoise_config
from contests.errors import GymkanaError
from contests.settings import Settings
from contests.tokens import Tokens
from oauth.flow import SignInFlows, StateStore
from oauth.providers import environment, load_providers
from web import demo_qr, errors, health, look, mailbox
from web.console import answers as console_answers
from web.console import audience as console_audience
from web.console import audit as console_audit
from web.console import brands as console_brands
from web.console import dashboard as console_dashboard
from web.console import editor as console_editor
from web.console import entrants as console_entrants
from web.console import inbox as console_inbox
from web.console import installation as console_installation
from web.console import preview as console_preview
from web.console import qr as console_qr
from web.console import review as console_review
from web.console import routes as console
from web.console import winners as console_winners
from web.limiter import Limiter
from web.links import AppLinks
from web.middleware import SecurityHeaders
from web.page_cache import KeptPages, KeptPagesMiddleware
from web.participant import account, contact, messages, optin, referrals, wall
from web.participant import claims as participant_claims
from web.participant import qr as participant_qr
from web.participant import routes as participant
from web.participant import rules as participant_rules
from web.session import SESSION_COOKIE
from web.signin import email as email_sign_in
from web.signin import providers as provider_sign_in
from web.snippet import routes as snippet
from web.snippet.beacon import BeaconEndpoint, BeaconPath, close_beacon_path
from web.snippet.cors import SnippetCors
from web.state import AppState

log = logging.getLogger("gymkana.web")
HERE = Path(__file__).resolve().parent


def app_routes() -> list[BaseRoute]:
    """Every route of the app, named: pages, sign-in, console, snippet, health."""
    return [
        # First: the overlay's questions are the busiest routes (after the beacon, which
        # is answered ahead of them all), and Starlette tries routes in order.
        *snippet.routes,
        *participant.routes,
        *participant_rules.routes,
        *participant_qr.routes,
        *referrals.routes,
        *participant_claims.routes,
        *contact.routes,
        *email_sign_in.routes,
        *provider_sign_in.routes,
        *account.routes,
        *console_editor.routes,
        *console_preview.routes,
        *console_brands.routes,
        *console_audit.routes,
        *console_installation.routes,
        *console.routes,
        *console_qr.routes,
        *console_winners.routes,
        *messages.routes,
        *wall.routes,
        *optin.routes,
        *console_answers.routes,
        *console_review.routes,
        *console_dashboard.routes,
        *console_inbox.routes,
        *console_audience.routes,
        *console_entrants.routes,
        *health.routes,
        *mailbox.routes,
        *look.routes,
        *demo_qr.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def app_links(settings: Settings) -> AppLinks:
    """The app's links without the app, for a worker's emails."""
    return AppLinks(Router(app_routes()), settings.base_url)


def create_app(
    settings: Settings,
    *,
    manage_database: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Starlette:
    """The web app. Tests that set the database up themselves pass manage_database=False.

    The sign-in providers are read from ``environ`` (by default the environment and the
    `.env` file); a provider configured wrongly raises ConfigurationError here.
    """
    state = AppState(
        settings=settings,
        tokens=Tokens(settings.secret_key),
        public_pages=KeptPages(settings.public_page_seconds, settings.default_locale),
    )
    flows = SignInFlows(
        load_providers(environment() if environ is None else environ),
        base_url=settings.base_url,
        store=StateStore(lambda: state.queue, settings.queue_name),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.gymkana = state
        # What start-up loaded (modules, templates, the ORM's models) lives as long as
        # the process: out of the collector's sight, full collections under load stay
        # short instead of walking it all again and again.
        gc.collect()
        gc.freeze()
        if manage_database:
            async with (
                RegisterTortoise(
                    app, config=tortoise_config(settings.database_url), _enable_global_fallback=True
                ),
                _queue(state, settings),
            ):
                try:
                    yield
                finally:
                    await close_beacon_path(app)
        else:
            async with _queue(state, settings):
                try:
                    yield
                finally:
                    await close_beacon_path(app)

    routes = app_routes()
    beacon_path = BeaconPath(state)
    middleware = [
        # The beacon first: it needs none of what follows (see web/snippet/beacon.py).
        Middleware(
            BeaconEndpoint,
            path=beacon_path,
            hsts=settings.secure_cookies,
            default_locale=settings.default_locale,
        ),
        # Outermost: a kept page is answered before anything else runs, with the very
        # headers (security ones included) it was first sent with.
        Middleware(KeptPagesMiddleware, pages=state.public_pages, session_cookie=SESSION_COOKIE),
        Middleware(SecurityHeaders, hsts=settings.secure_cookies),
        Middleware(SnippetCors, prefix="/api/"),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=settings.session_max_hours * 3600,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            GymkanaError: errors.domain_error,
            HTTPException: errors.http_error,
            **dict.fromkeys(errors.FAILURES, errors.server_error),
            Exception: errors.server_error,
        },
    )
    app.state.gymkana = state
    app.state.sign_in_flows = flows
    app.state.beacon_path = beacon_path
    return app


@asynccontextmanager
async def _queue(state: AppState, settings: Settings) -> AsyncIterator[None]:
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    redis_settings.conn_retries = 2
    state.queue = await create_pool(redis_settings, default_queue_name=settings.queue_name)
    state.limiter = Limiter(settings.redis_url, settings.queue_name, state.queue.connection_pool)
    try:
        yield
    finally:
        state.limiter = None
        await state.queue.aclose()
        state.queue = None
