"""Serve the pages from inside the engine's event loop with uvicorn.

One process, one loop: the pages read the core directly between two events, never a copy
that could lag. uvicorn's own signal handling is turned off (the engine owns SIGTERM), and
the socket is bound here so a port in use is an error the engine can log and survive: the
hotline matters more than the wallboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import Any

import uvicorn
from starlette.applications import Starlette

from acd.secrets import ensure_secret
from acd.web.facade import EngineFacade

log = logging.getLogger("acd.web")
#: Open live streams are cut after this long at shutdown instead of holding the engine up.
GRACEFUL_SECONDS = 2


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the engine handles signals and calls close()


class WebServer:
    """uvicorn running `app` on an already bound socket, as a task of the current loop."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            server_header=False,
            proxy_headers=False,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="acd-web")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("web server stopped while starting")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._server is None or self._task is None:
            return
        feed = getattr(self.app.state, "feed", None)
        if feed is not None:
            feed.end_streams()  # open live pages would otherwise hold the shutdown up
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def start_web(facade: EngineFacade) -> WebServer | None:
    """The pages for the engine, if configured; None when off or the port cannot be had."""
    from acd.web.app import create_app

    settings = facade.config.engine.http
    if not settings.enabled:
        return None
    secrets_file = facade.paths.secrets_file
    app = create_app(
        facade,
        settings,
        session_secret=ensure_secret(secrets_file, "web_session_secret", 32),
        metrics_token=_metrics_token(secrets_file),
    )
    server = WebServer(app, settings.host, settings.port)
    try:
        await server.start()
    except (OSError, RuntimeError) as exc:
        log.error("web pages not served on %s:%s: %s", settings.host, settings.port, exc)
        return None
    log.info("web pages on http://%s:%s/", settings.host, server.port)
    return server


def _metrics_token(path: Any) -> str | None:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    token = data.get("metrics_token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None
