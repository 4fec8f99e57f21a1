"""What the app holds for its lifetime, reachable from every request."""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis
from starlette.requests import Request

from contests.settings import Settings
from contests.tokens import Tokens
from web.limiter import Limiter
from web.page_cache import KeptPages


@dataclass
class AppState:
    settings: Settings
    tokens: Tokens
    public_pages: KeptPages
    queue: ArqRedis | None = None
    limiter: Limiter | None = None


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.gymkana
    return state
