"""A self-healing asyncio connection to the Asterisk Manager Interface.

The engine must outlive Asterisk restarts, network blips and half-dead TCP sessions without a
human: so `run()` never gives up, every failure ends in a reconnect with backoff, and anything
waiting on the old connection is failed at once instead of hanging. Callbacks supplied by the
engine are isolated: a bug in one of them is logged, never allowed to take the link down.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeAlias

from acd.ami.codec import (
    DEFAULT_MAX_FRAME_BYTES,
    AmiException,
    AmiParser,
    AmiProtocolError,
    Message,
    encode_action,
)

__all__ = ["AmiClient", "AmiDisconnected", "AmiError", "AmiTimeout", "FieldValue"]

FieldValue: TypeAlias = str | int | Sequence[str]
"""What an action field may hold; a sequence becomes a repeated header (`Variable`)."""

_READ_CHUNK = 64 * 1024
_CLOSE_WAIT = 1.0


class AmiError(AmiException):
    """Asterisk answered `Response: Error`: the request reached it and was refused.

    Distinct from `AmiDisconnected`/`AmiTimeout` because retrying will not help here, while it
    may there.
    """

    def __init__(self, response: Message, action: str = "") -> None:
        self.response = response
        self.action = action
        self.reason = response.get("Message", "")
        prefix = f"AMI {action} failed" if action else "AMI action failed"
        super().__init__(f"{prefix}: {self.reason or 'Response: Error'}")


class AmiDisconnected(AmiException):
    """The AMI link is down (or went down) before the answer arrived.

    Whether Asterisk executed the action is unknown; the engine learns the truth from the resync
    it runs in `on_login` after the reconnect.
    """


class AmiTimeout(AmiException, TimeoutError):
    """No answer within the deadline. Also a `TimeoutError`, so generic timeout handling works."""


class _Pending:
    """Book-keeping for one in-flight action, keyed by its ActionID."""

    __slots__ = ("collect", "complete", "events", "future", "response")

    def __init__(
        self, future: asyncio.Future[tuple[Message, list[Message]]], collect: bool
    ) -> None:
        self.future = future
        self.collect = collect
        self.response: Message | None = None
        self.events: list[Message] = []
        self.complete = False

    def on_response(self, msg: Message) -> None:
        if self.future.done() or self.response is not None:
            # The first reply decides; a repeat of the ActionID must not end a list early.
            return
        if not self.collect or _is_error(msg) or not _list_started(msg):
            # Without "EventList: start" Asterisk will not send a list, so waiting would only
            # end in a timeout.
            self.future.set_result((msg, self.events))
            return
        self.response = msg
        self._maybe_resolve()

    def on_event(self, msg: Message) -> None:
        if self.future.done():
            return
        marker = (msg.get("EventList") or "").lower()
        if marker in ("complete", "cancelled"):
            # The terminator only carries ListItems; leaving it out lets callers treat every
            # returned event as a list item.
            self.complete = True
            self._maybe_resolve()
        else:
            self.events.append(msg)

    def _maybe_resolve(self) -> None:
        if self.complete and self.response is not None and not self.future.done():
            self.future.set_result((self.response, self.events))


def _is_error(msg: Message) -> bool:
    return (msg.get("Response") or "").lower() == "error"


def _list_started(msg: Message) -> bool:
    return (msg.get("EventList") or "").lower() == "start"


def _secs(delay: float) -> str:
    """Readable at production scale ("2.0s") without showing test-scale delays as "0.0s"."""
    return f"{delay:.1f}s" if delay >= 0.1 else f"{delay:.3f}s"


def _raise_if_failed(task: asyncio.Task[None]) -> None:
    if task.done() and not task.cancelled():
        task.result()
        raise AmiDisconnected("connection closed")


class _LoginRejected(AmiException):
    """Internal: bad credentials or ACL. Kept apart so the log line can say so plainly."""


class _Unreachable(AmiException):
    """Internal: the TCP connection could not be opened."""


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
        self._on_event = on_event
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

        # A per-client prefix keeps our ActionIDs distinguishable from other AMI users' in
        # Asterisk's logs; the counter never restarts, so a late reply can't match a new action.
        self._id_prefix = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
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
            delay = self._backoff(self._failures)
            self._failures += 1
            self._log_session_end(task, delay)
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
        if _is_error(response):
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
        if _is_error(response):
            raise AmiError(response, name)
        return response, events

    # -- internals -----------------------------------------------------------------------------

    def _backoff(self, failures: int) -> float:
        base = min(self._backoff_max, self._backoff_initial * (2.0 ** min(failures, 30)))
        return base * random.uniform(0.8, 1.0)

    def _log_session_end(self, task: asyncio.Task[None], delay: float) -> None:
        exc = None if task.cancelled() else task.exception()
        where = self.address
        if isinstance(exc, _Unreachable):
            self._log.warning(
                "Asterisk AMI not reachable at %s (%s), retrying in %s", where, exc, _secs(delay)
            )
        elif isinstance(exc, _LoginRejected):
            self._log.error(
                "Asterisk AMI login as %r at %s rejected: %s; check manager.conf credentials "
                "and permit/deny; retrying in %s",
                self._username,
                where,
                exc,
                _secs(delay),
            )
        elif isinstance(exc, AmiException | OSError | TimeoutError | EOFError):
            self._log.warning(
                "Asterisk AMI connection to %s lost: %s; reconnecting in %s",
                where,
                exc,
                _secs(delay),
            )
        elif exc is not None:
            self._log.error(
                "Asterisk AMI session to %s failed unexpectedly; reconnecting in %s",
                where,
                _secs(delay),
                exc_info=exc,
            )
        else:
            self._log.warning(
                "Asterisk AMI connection to %s ended; reconnecting in %s", where, _secs(delay)
            )

    def _require_connected(self, name: str) -> None:
        if not self._connected:
            raise AmiDisconnected(f"cannot send {name}: not connected to Asterisk AMI")

    async def _session(self) -> None:
        """One TCP connection from connect to teardown; any exception ends it."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(self._host, self._port)
        except (OSError, TimeoutError) as exc:
            raise _Unreachable(str(exc) or type(exc).__name__) from exc

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
            self._fail_pending("connection to Asterisk AMI lost")
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
        if _is_error(response):
            raise _LoginRejected(response.get("Message") or "Response: Error")
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
                        self._dispatch(msg)
                    raise
                for msg in messages:
                    self._dispatch(msg)
        finally:
            # Fail waiters now, not when the session task gets round to its cleanup.
            self._link_up = False
            self._connected = False
            self._connected_evt.clear()
            self._fail_pending("connection to Asterisk AMI lost")

    def _dispatch(self, msg: Message) -> None:
        action_id = msg.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        # Events first: OriginateResponse carries both `Event` and `Response` (and the ActionID
        # of its Originate), and must never be mistaken for the Originate's reply.
        if msg.is_event:
            # A list already resolved passes its stragglers on like any event: whether they
            # arrived in the same read as its Complete must not decide if they are seen at all.
            if pending is not None and pending.collect and not pending.future.done():
                pending.on_event(msg)
            else:
                self._deliver_event(msg)
        elif msg.is_response:
            if pending is None:
                self._log.debug("AMI response for unknown ActionID %r dropped", action_id)
            else:
                pending.on_response(msg)
        else:
            self._log.debug("AMI frame that is neither event nor response ignored: %r", msg)

    def _deliver_event(self, msg: Message) -> None:
        try:
            self._on_event(msg)
        except Exception:
            self._log.exception("AMI on_event callback failed for %s", msg.name)

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(AmiDisconnected(reason))

    async def _request(
        self,
        name: str,
        fields: Mapping[str, FieldValue],
        *,
        reply_within: float,
        collect: bool = False,
    ) -> tuple[Message, list[Message]]:
        """Send an action and wait for its reply, whatever Response it carries."""
        writer = self._writer
        if writer is None or not self._link_up:
            raise AmiDisconnected(f"cannot send {name}: not connected to Asterisk AMI")
        action_id = f"{self._id_prefix}-{next(self._ids)}"
        data = encode_action(name, action_id, fields)
        future: asyncio.Future[tuple[Message, list[Message]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[action_id] = _Pending(future, collect)
        try:
            async with asyncio.timeout(reply_within):
                try:
                    writer.write(data)
                    await writer.drain()
                except OSError as exc:
                    raise AmiDisconnected(f"cannot send {name}: {exc}") from exc
                return await future
        except TimeoutError:
            raise AmiTimeout(f"AMI {name} got no response within {reply_within:g}s") from None
        finally:
            self._pending.pop(action_id, None)
