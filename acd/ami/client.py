"""A self-healing asyncio connection to the Asterisk Manager Interface.

The engine must outlive Asterisk restarts, network blips and half-dead TCP sessions without a
human: so `run()` never gives up, every failure ends in a reconnect with backoff, and anything
waiting on the old connection is failed at once instead of hanging. Callbacks supplied by the
engine are isolated: a bug in one of them is logged, never allowed to take the link down.
Routing frames to their actions is `acd.ami.inflight`, the wait and the log line between two
sessions `acd.ami.reconnect`, the error types `acd.ami.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeAlias

from acd.ami.codec import (
    DEFAULT_MAX_FRAME_BYTES,
    AmiParser,
    AmiProtocolError,
    Message,
    encode_action,
)
from acd.ami.errors import AmiDisconnected, AmiError, AmiTimeout, LoginRejected, Unreachable
from acd.ami.inflight import Answer, InFlight, is_error
from acd.ami.reconnect import backoff_delay, log_session_end

__all__ = ["AmiClient", "FieldValue"]

FieldValue: TypeAlias = str | int | Sequence[str]
"""What an action field may hold; a sequence becomes a repeated header (`Variable`)."""

_READ_CHUNK = 64 * 1024
_CLOSE_WAIT = 1.0


def _raise_if_failed(task: asyncio.Task[None]) -> None:
    if task.done() and not task.cancelled():
        task.result()
        raise AmiDisconnected("connection closed")


class AmiClient:
    """One long-lived AMI session that reconnects by itself.

    Actions are only accepted while logged in; they are never queued across a reconnect because
    a stale Originate or Redirect replayed minutes later is worse than a clear failure.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        on_event: Callable[[Message], None],
        on_login: Callable[[], Awaitable[None]] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        logger: logging.Logger | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._secret = secret
        self._on_login = on_login
        self._on_disconnect = on_disconnect
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._action_timeout = action_timeout
        self._connect_timeout = connect_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = max(backoff_max, backoff_initial)
        self._log = logger or logging.getLogger(__name__)
        self._max_frame_bytes = max_frame_bytes

        self.reconnects = 0
        """Sessions re-established after the first login; a metric for link flapping."""
        self.banner: str | None = None

        self._inflight = InFlight(on_event, self._log)
        self._writer: asyncio.StreamWriter | None = None
        self._link_up = False
        self._connected = False
        self._connected_evt = asyncio.Event()
        self._closed = False
        self._closed_evt = asyncio.Event()
        self._ever_logged_in = False
        self._failures = 0
        self._run_task: asyncio.Task[None] | None = None
        self._session_task: asyncio.Task[None] | None = None
        self._on_login_task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    @property
    def connected(self) -> bool:
        """True only while logged in: a TCP connection alone cannot run actions."""
        return self._connected

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Block until logged in; raises `TimeoutError` after `timeout` seconds.

        Also watches `close()`, raising `AmiDisconnected`, so a startup wait cannot outlive a
        shutdown.
        """
        async with asyncio.timeout(timeout):
            while not self._connected:
                if self._closed:
                    raise AmiDisconnected("AMI client is closed")
                waiters = [
                    asyncio.create_task(self._connected_evt.wait()),
                    asyncio.create_task(self._closed_evt.wait()),
                ]
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
                    await asyncio.gather(*waiters, return_exceptions=True)

    async def run(self) -> None:
        """Keep a logged-in session up until `close()`.

        Network and protocol failures are logged and followed by a reconnect with exponential
        backoff plus jitter (so many engines restarting together do not stampede Asterisk).
        Returns after `close()`; cancellation propagates after tearing the session down.
        """
        if self._run_task is not None and not self._run_task.done():
            raise RuntimeError("AmiClient.run() is already running")
        self._run_task = asyncio.current_task()
        self._failures = 0
        while not self._closed:
            self._session_task = asyncio.create_task(
                self._session(), name=f"ami-session-{self.address}"
            )
            try:
                await asyncio.wait({self._session_task})
            except asyncio.CancelledError:
                self._session_task.cancel()
                await asyncio.wait({self._session_task})
                raise
            task, self._session_task = self._session_task, None
            if self._closed:
                break
            delay = backoff_delay(self._failures, self._backoff_initial, self._backoff_max)
            self._failures += 1
            exc = None if task.cancelled() else task.exception()
            log_session_end(self._log, self.address, self._username, exc, delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._closed_evt.wait()
        self._log.info("Asterisk AMI client for %s closed", self.address)

    async def close(self) -> None:
        """Stop reconnecting, drop the session and fail whatever is still pending."""
        self._closed = True
        self._closed_evt.set()
        if self._session_task is not None and not self._session_task.done():
            self._session_task.cancel()
        current = asyncio.current_task()
        run_task = self._run_task
        if (
            run_task is not None
            and not run_task.done()
            and current is not run_task
            # Called from on_login: that task is about to be cancelled with the session, and
            # waiting here for run() would wait for ourselves.
            and current is not self._on_login_task
        ):
            await asyncio.wait({run_task})

    async def action(self, name: str, /, **fields: FieldValue) -> Message:
        """Send one action and return its Response.

        Fails fast with `AmiDisconnected` when not logged in rather than queueing, see the class
        docstring. An action that times out may still have run in Asterisk.
        """
        self._require_connected(name)
        response, _ = await self._request(name, fields, reply_within=self._action_timeout)
        if is_error(response):
            raise AmiError(response, name)
        return response

    async def action_list(
        self, name: str, /, **fields: FieldValue
    ) -> tuple[Message, list[Message]]:
        """Send a list action (`EventList: start`) and collect its events.

        The list events are claimed by ActionID and not passed to `on_event`, so a resync does not
        look like a burst of live changes. The terminating `...Complete` event is not included.
        If Asterisk answers Success without starting a list, the result is `(response, [])`.
        """
        self._require_connected(name)
        response, events = await self._request(
            name, fields, reply_within=self._action_timeout, collect=True
        )
        if is_error(response):
            raise AmiError(response, name)
        return response, events

    # -- internals -----------------------------------------------------------------------------

    def _require_connected(self, name: str) -> None:
        if not self._connected:
            raise AmiDisconnected(f"cannot send {name}: not connected to Asterisk AMI")

    async def _session(self) -> None:
        """One TCP connection from connect to teardown; any exception ends it."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(self._host, self._port)
        except (OSError, TimeoutError) as exc:
            raise Unreachable(str(exc) or type(exc).__name__) from exc

        self._writer = writer
        self._link_up = True
        logged_in = False
        parser = AmiParser(self._max_frame_bytes)
        reader_task = asyncio.create_task(self._read_loop(reader, parser), name="ami-reader")
        ping_task: asyncio.Task[None] | None = None
        try:
            await self._login(reader_task)
            logged_in = True
            self.banner = parser.banner
            if self._ever_logged_in:
                self.reconnects += 1
            self._ever_logged_in = True
            self._failures = 0
            self._connected = True
            self._connected_evt.set()
            self._log.info(
                "Logged in to Asterisk AMI at %s as %r (%s)",
                self.address,
                self._username,
                parser.banner or "no banner",
            )
            if self._on_login is not None:
                # A task, not an await: on_login calls action() and needs the reader running.
                self._on_login_task = asyncio.create_task(
                    self._run_on_login(self._on_login), name="ami-on-login"
                )
            ping_task = asyncio.create_task(self._ping_loop(), name="ami-ping")
            done, _ = await asyncio.wait(
                {reader_task, ping_task}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                task.result()  # re-raise why the session ended
            raise AmiDisconnected("session ended")
        finally:
            self._connected = False
            self._connected_evt.clear()
            self._link_up = False
            self._writer = None
            self._inflight.fail_all("connection to Asterisk AMI lost")
            # on_login belongs to this session: let the next login start a fresh resync instead
            # of two racing each other.
            tasks = [t for t in (reader_task, ping_task, self._on_login_task) if t is not None]
            self._on_login_task = None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_WAIT):
                    await writer.wait_closed()
            if logged_in and self._on_disconnect is not None:
                try:
                    self._on_disconnect()
                except Exception:
                    self._log.exception("AMI on_disconnect callback failed")

    async def _login(self, reader_task: asyncio.Task[None]) -> None:
        # No need to watch the reader separately: when it stops it fails every pending action,
        # the Login included. Asterisk closes the socket right after a rejected Login, so the
        # response must be judged before the reader's EOF.
        try:
            response, _ = await self._request(
                "Login",
                {"Username": self._username, "Secret": self._secret, "Events": "on"},
                reply_within=self._action_timeout,
            )
        except AmiDisconnected:
            _raise_if_failed(reader_task)  # EOF or protocol error says more than "lost"
            raise
        if is_error(response):
            raise LoginRejected(response.get("Message") or "Response: Error")
        _raise_if_failed(reader_task)

    async def _run_on_login(self, callback: Callable[[], Awaitable[None]]) -> None:
        try:
            await callback()
        except AmiDisconnected as exc:
            self._log.warning("AMI on_login interrupted by a disconnect: %s", exc)
        except Exception:
            self._log.exception("AMI on_login callback failed")

    async def _ping_loop(self) -> None:
        """Detect a silently dead peer (NAT drop, hung Asterisk) that TCP would not report."""
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await self._request("Ping", {}, reply_within=self._ping_timeout)
            except AmiTimeout:
                # The session end is logged by run(), with this reason.
                raise AmiTimeout(
                    f"no answer to Ping within {self._ping_timeout:g}s, dropping the connection"
                ) from None

    async def _read_loop(self, reader: asyncio.StreamReader, parser: AmiParser) -> None:
        try:
            while True:
                data = await reader.read(_READ_CHUNK)
                if not data:
                    raise AmiDisconnected("Asterisk closed the connection")
                try:
                    messages = parser.feed(data)
                except AmiProtocolError as exc:
                    for msg in exc.messages:
                        self._inflight.dispatch(msg)
                    raise
                for msg in messages:
                    self._inflight.dispatch(msg)
        finally:
            # Fail waiters now, not when the session task gets round to its cleanup.
            self._link_up = False
            self._connected = False
            self._connected_evt.clear()
            self._inflight.fail_all("connection to Asterisk AMI lost")

    async def _request(
        self,
        name: str,
        fields: Mapping[str, FieldValue],
        *,
        reply_within: float,
        collect: bool = False,
    ) -> Answer:
        """Send an action and wait for its reply, whatever Response it carries."""
        writer = self._writer
        if writer is None or not self._link_up:
            raise AmiDisconnected(f"cannot send {name}: not connected to Asterisk AMI")
        action_id, future = self._inflight.open(collect=collect)
        try:
            async with asyncio.timeout(reply_within):
                try:
                    writer.write(encode_action(name, action_id, fields))
                    await writer.drain()
                except OSError as exc:
                    raise AmiDisconnected(f"cannot send {name}: {exc}") from exc
                return await future
        except TimeoutError:
            raise AmiTimeout(f"AMI {name} got no response within {reply_within:g}s") from None
        finally:
            self._inflight.close(action_id)
