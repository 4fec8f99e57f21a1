"""Real servers on loopback for the tests: an ASGI app under uvicorn, a WSGI app under
werkzeug, each on a free port in a thread of its own, stopped when the block ends; or an
ASGI app served from the test's own event loop, where the database connections live."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn
import werkzeug.serving


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def asgi_server(app: Any, port: int = 0) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 (on ``port``, or a free one); yields its base URL."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", http="h11", ws="none", loop="asyncio"
    )
    server = uvicorn.Server(config)
    # A thread of its own, with its own event loop: uvicorn leaves signals alone there.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


@contextmanager
def wsgi_server(app: Any) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1; yields its base URL."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


class _QuietServer(uvicorn.Server):
    """Leaves signals to pytest."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def asgi_server_in_loop(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Serve an ASGI app on 127.0.0.1 from the running event loop, so that it shares the
    test's database connections; its lifespan is the caller's. Yields its base URL; a
    ``port`` of 0 is any free one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", http="h11", ws="none", loop="asyncio"
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while not server.started:
            if task.done() or asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("the test server did not start")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        listener.close()
