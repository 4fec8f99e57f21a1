"""The Starlette application, composed: routes, middleware, lifespan."""

from __future__ import annotations

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
from web import demo_qr, errors, health, mailbox
from web.console import qr as console_qr
from web.console import routes as console
from web.limiter import Limiter
from web.links import AppLinks
from web.middleware import SecurityHeaders
from web.participant import account, referrals
from web.participant import qr as participant_qr
from web.participant import routes as participant
from web.signin import email as email_sign_in
from web.signin import providers as provider_sign_in
from web.snippet import routes as snippet
from web.snippet.beacon import close_beacon_path
from web.snippet.cors import SnippetCors
from web.state import AppState

log = logging.getLogger("gymkana.web")
HERE = Path(__file__).resolve().parent


def app_routes() -> list[BaseRoute]:
    """Every route of the app, named: pages, sign-in, console, snippet, health."""
    return [
        # First: the beacon and the overlay's questions are the busiest routes, and
        # Starlette tries routes in order.
        *snippet.routes,
        *participant.routes,
        *participant_qr.routes,
        *referrals.routes,
        *email_sign_in.routes,
        *provider_sign_in.routes,
        *account.routes,
        *console.routes,
        *console_qr.routes,
        *health.routes,
        *mailbox.routes,
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
    state = AppState(settings=settings, tokens=Tokens(settings.secret_key))
    flows = SignInFlows(
        load_providers(environment() if environ is None else environ),
        base_url=settings.base_url,
        store=StateStore(lambda: state.queue, settings.queue_name),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.gymkana = state
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
    middleware = [
        Middleware(SecurityHeaders, hsts=settings.secure_cookies),
        Middleware(SnippetCors, prefix="/api/"),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="gymkana",
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
