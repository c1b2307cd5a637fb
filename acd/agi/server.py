"""Our own FastAGI server: one task per call, nothing that blocks the loop, no trust in the peer.

Written instead of using panoramisk's, which freezes the event loop on an early EOF, takes an
out-of-band HANGUP for the reply to the pending command, and cannot route a script that
carries a query string. This module accepts connections, reads the environment
(`acd.agi.environment`) and hands each call, as an `AgiSession` (`acd.agi.session`), to the
handler for its script.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Self

from acd.agi.environment import MAX_HEADER_BYTES, AgiRequest, HeaderParser
from acd.agi.protocol import AgiHangup, AgiProtocolError, AgiTimeout
from acd.agi.session import DEFAULT_COMMAND_TIMEOUT, STREAM_LIMIT, AgiSession

Handler = Callable[[AgiSession], Awaitable[None]]

_CLOSE_GRACE = 1.0

_log = logging.getLogger("acd.agi")


def _route_key(script: str) -> str:
    return script.strip("/")


class FastAgiServer:
    """Accepts Asterisk's FastAGI connections and hands each call to the handler for its script.

    Every connection is its own task and every failure stays inside it: a peer that sends
    garbage, stalls or vanishes, or a handler that raises, costs that one call only.
    """

    def __init__(
        self,
        routes: Mapping[str, Handler],
        host: str = "127.0.0.1",
        port: int = 4573,
        *,
        header_timeout: float = 5.0,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        logger: logging.Logger | None = None,
    ) -> None:
        self._routes: dict[str, Handler] = {}
        for script, handler in routes.items():
            key = _route_key(script)
            if key in self._routes:
                raise ValueError(f"two routes for script {key!r}")
            self._routes[key] = handler
        self._host = host
        self._port = port
        self._header_timeout = header_timeout
        self._command_timeout = command_timeout
        self._log = logger or _log
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port, so tests can ask for port 0."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("FastAGI server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FastAGI server already started")
        self._server = await asyncio.start_server(
            self._on_connect, self._host, self._port, limit=STREAM_LIMIT
        )
        self._log.info("FastAGI listening on %s:%d", self._host, self.port)

    async def close(self) -> None:
        """Stop listening and end the calls in progress (Asterisk continues their dialplan)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await self._serve(reader, writer, peer)
        except Exception:
            self._log.exception("FastAGI connection from %s failed", peer)
        finally:
            if task is not None:
                self._connections.discard(task)
            await _close(writer)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: object
    ) -> None:
        timer = asyncio.timeout(self._header_timeout)
        try:
            async with timer:
                request = await _read_request(reader)
        except AgiProtocolError as exc:
            self._log.warning("FastAGI connection from %s dropped: %s", peer, exc)
            return
        except OSError as exc:  # TimeoutError included
            if timer.expired():
                self._log.warning(
                    "FastAGI connection from %s dropped: no complete AGI environment within %g s",
                    peer,
                    self._header_timeout,
                )
            else:
                self._log.info("FastAGI connection from %s lost during the header: %s", peer, exc)
            return

        handler = self._routes.get(request.script)
        if handler is None:
            # Closing without a command makes Asterisk carry on with the next priority.
            self._log.warning(
                "FastAGI: no route for script %r (request %s, channel %s, uniqueid %s); "
                "closing so the dialplan continues",
                request.script,
                request.url,
                request.channel,
                request.uniqueid,
            )
            return

        session = AgiSession(
            request,
            reader,
            writer,
            command_timeout=self._command_timeout,
            logger=self._log,
        )
        where = f"{request.script!r} on {request.channel or peer} ({request.uniqueid})"
        try:
            await handler(session)
        except AgiTimeout as exc:
            self._log.warning("FastAGI handler %s gave up: %s", where, exc)
        except AgiHangup as exc:
            self._log.debug("FastAGI handler %s ended by hangup: %s", where, exc)
        except Exception:
            self._log.exception("FastAGI handler %s failed", where)
        else:
            self._log.debug("FastAGI handler %s finished", where)


async def _read_request(reader: asyncio.StreamReader) -> AgiRequest:
    """Read the environment line by line so nothing after the blank line is consumed."""
    parser = HeaderParser()
    while True:
        try:
            line = await reader.readline()
        except ValueError as exc:  # one line longer than the stream limit
            raise AgiProtocolError(f"AGI environment longer than {MAX_HEADER_BYTES} bytes") from exc
        if not line:
            parser.feed_eof()  # raises: a complete environment has returned already
            raise AgiProtocolError("connection closed during the AGI environment")
        request = parser.feed(line)
        if request is not None:
            return request


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close politely, but never wait long on a peer that stopped reading."""
    try:
        writer.close()
        async with asyncio.timeout(_CLOSE_GRACE):
            await writer.wait_closed()
    except (OSError, RuntimeError):
        writer.transport.abort()
