"""How `gymkana serve` runs the app: which HTTP server, and how many processes.

Granian is the default: under the same load on the same machine it answered 2.6 to 4.4
times as many signed-out requests as uvicorn with httptools and uvloop, and as many
signed-in ones (`python -m bench.landing --servers`; figures in the README).
uvicorn stays available (``gymkana serve --server uvicorn``).

Each process builds its own app from the environment (``application``), so that any
number of them can share the port; the forwarded-address headers are believed only
from TRUSTED_PROXIES, whichever server runs.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from starlette.types import ASGIApp

from contests.settings import Settings, load_settings

Server = Literal["granian", "uvicorn"]
SERVERS: tuple[Server, ...] = ("granian", "uvicorn")
DEFAULT_SERVER: Server = "granian"
TARGET = "web.serve:application"


def application() -> ASGIApp:
    """The app one server process runs, with its settings read in that process."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from web.app import create_app

    settings = load_settings()
    app: ASGIApp = create_app(settings)
    if settings.trusted_proxy_list:
        # Believed from anyone else, any client could pick its own address and dodge
        # the per-client limits.
        # uvicorn types ASGI more narrowly than Starlette; the protocol is the same.
        app = cast(
            ASGIApp,
            ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=settings.trusted_proxy_list),
        )
    return app


def run(settings: Settings, *, server: Server, host: str, port: int) -> None:
    """Serve Gymkana until stopped, in ``settings.web_processes`` processes."""
    serve(TARGET, server=server, host=host, port=port, processes=settings.web_processes)


def serve(target: str, *, server: Server, host: str, port: int, processes: int) -> None:
    """Serve the app that the factory ``target`` ("module:function") makes, until stopped.

    The benchmarks serve their anchor through this too, so that both sides of a
    comparison run on exactly the same server settings."""
    if server == "granian":
        from granian import Granian
        from granian.constants import Interfaces, Loops

        Granian(
            target,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=processes,
            loop=Loops.uvloop,
            factory=True,
            # A process that dies is replaced rather than leaving the port short of one.
            respawn_failed_workers=True,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        target,
        factory=True,
        host=host,
        port=port,
        workers=processes,
        loop="uvloop",
        http="httptools",
        # The app believes forwarded headers itself (above), for both servers.
        proxy_headers=False,
        access_log=False,
        log_level="info",
    )
