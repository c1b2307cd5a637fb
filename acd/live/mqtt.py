"""Publishing the engine's events to an MQTT broker, without ever holding up a call.

The engine's observer only maps and enqueues (`observe`); one task (`run`) connects with
aiomqtt, publishes in order at QoS 1 and reconnects with backoff when the broker goes away.
While it is away messages wait in a bounded queue; when that is full the oldest is dropped
and counted (`dropped`): a wallboard that missed a minute recovers from the next messages and
the retained agent states, while an engine that waited on a broker would stop routing calls.

Delivery is at least once: a message is taken off the queue only when the broker acknowledged
it, so one in flight when the link broke is sent again after the reconnect.

Screen pops need the database (IVR path, the caller's history); each is completed in its own
task with a short deadline and published without what did not arrive in time rather than late,
read through one `Records` the publisher owns for its life (`with_database`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import aiomqtt

from acd.config.adapters import MqttSettings
from acd.core import events as ev
from acd.live.broker import broker_address, read_password, tls_context
from acd.live.messages import Item, MessageMapper
from acd.live.topics import Message, complete_screen_pop, iso
from acd.privacy import mask_number

if TYPE_CHECKING:
    from acd.records.store import Records

log = logging.getLogger("acd.mqtt")

#: The call's IVR path ("main/1/services/2"), from its record; None when unknown.
IvrPathLookup = Callable[[str], Awaitable[str | None]]
#: The caller's earlier calls (JSON-ready), by their full number; None when unknown.
HistoryLookup = Callable[[str], Awaitable[dict[str, Any] | None]]

#: At most one log line per this many seconds for each repeating trouble (broker down,
#: drops, a failing lookup): an outage of an hour must not write a million lines.
LOG_EVERY_SECONDS = 60.0
KEEPALIVE_SECONDS = 30
#: Screen-pop lookups running at once: a burst of offers (an agent refusing call after call)
#: must not become a burst of connections; the pops over this wait, past their deadline go without.
LOOKUPS_AT_ONCE = 4


def database_lookups(records: Records) -> tuple[IvrPathLookup, HistoryLookup]:
    """The screen pop's lookups in the records database, through `records` (the caller's)."""

    async def ivr_path(call_id: str) -> str | None:
        row = await records.get_call(call_id)
        return str(row["ivr_path"]) if row and row.get("ivr_path") else None

    async def history(caller: str) -> dict[str, Any] | None:
        return dict(await records.caller_history(caller))

    return ivr_path, history


class _Every:
    """True at most once per `seconds`: for log lines about a trouble that repeats."""

    def __init__(self, seconds: float = LOG_EVERY_SECONDS) -> None:
        self.seconds = seconds
        self._last: float | None = None

    def due(self) -> bool:
        now = time.monotonic()
        if self._last is None or now - self._last >= self.seconds:
            self._last = now
            return True
        return False


class MqttPublisher:
    def __init__(
        self,
        settings: MqttSettings,
        *,
        ivr_path: IvrPathLookup | None = None,
        history: HistoryLookup | None = None,
        records: Records | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.settings = settings
        self.mapper = MessageMapper(settings.topic_prefix)
        self._ivr_path = ivr_path
        self._history = history
        self._records = records  # the lookups' Records, owned: closed in close()
        self._backoff_initial = backoff_initial
        self._backoff_max = max(backoff_max, backoff_initial)
        self._log = logger or log
        self.host, self.port, self.tls = broker_address(settings.url)
        self._pending: deque[Message] = deque()
        self._wake = asyncio.Event()
        self._closed = False
        self._run_task: asyncio.Task[None] | None = None
        self._pops: set[asyncio.Task[None]] = set()
        self._lookup_slots = asyncio.Semaphore(LOOKUPS_AT_ONCE)
        self._drop_log = _Every()
        self._fail_log = _Every()
        self._observer_log = _Every()
        self._lookup_log = _Every()
        #: For metrics: messages acknowledged by the broker, dropped on a full queue,
        #: connections made, and attempts that failed or connections that were lost; and
        #: whether it is connected now.
        self.published = 0
        self.dropped = 0
        self.connections = 0
        self.connect_failures = 0
        self.connected = False

    @classmethod
    def with_database(cls, settings: MqttSettings, database_url: str) -> MqttPublisher:
        """The engine's publisher: screen pops looked up through one `Records` it owns and
        closes in `close()`; its pool connects on the first pop, in the publisher's loop."""
        from acd.records.store import Records  # the SQLAlchemy stack loads only when used

        records = Records(database_url)
        ivr_path, history = database_lookups(records)
        return cls(settings, ivr_path=ivr_path, history=history, records=records)

    @property
    def address(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def queued(self) -> int:
        return len(self._pending)

    # -- the engine's side: never blocks, never raises ----------------------------------
    def observe(self, event: ev.Event, decisions: Sequence[Item], now: float) -> None:
        """The engine observer: the step's messages go on the queue (screen pops via a lookup)."""
        try:
            messages = self.mapper(event, decisions, now)
        except Exception:
            if self._observer_log.due():
                self._log.exception("MQTT events for %s not made", type(event).__name__)
            return
        for message in messages:
            if message.screen_pop:
                self._complete_later(message)
            else:
                self.enqueue(message)

    def record(self, item: Item, now: float) -> None:
        """A record made outside the core (the survey's score): mapped like a decision."""
        self.observe(ev.Tick(), [item], now)

    def enqueue(self, message: Message) -> None:
        if len(self._pending) >= self.settings.queue_size:
            self._pending.popleft()
            self.dropped += 1
            if self._drop_log.due():
                self._log.warning(
                    "MQTT queue full (%d messages, broker %s %s): dropping the oldest; "
                    "%d dropped so far",
                    self.settings.queue_size,
                    self.address,
                    "connected but slow" if self.connected else "unreachable",
                    self.dropped,
                )
        self._pending.append(message)
        self._wake.set()

    # -- screen pops -------------------------------------------------------------------
    def _complete_later(self, message: Message) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._complete(message))
        except RuntimeError:  # no loop (a synchronous caller): send what is known
            self.enqueue(complete_screen_pop(message, None, None))
            return
        self._pops.add(task)
        task.add_done_callback(self._pops.discard)

    async def _complete(self, message: Message) -> None:
        call_id = str(message.payload.get("call_id", ""))
        number = str(message.payload.get("callback_number") or message.payload.get("caller", ""))
        path_task = self._lookup(self._ivr_path, call_id)
        history_task = self._lookup(self._history, number)
        tasks = [t for t in (path_task, history_task) if t is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.settings.screen_pop_timeout)
            for task in late:
                task.cancel()
            if late and self._lookup_log.due():
                self._log.warning(
                    "screen pop for call %s (%s) sent without what the database did not "
                    "answer within %gs",
                    call_id,
                    mask_number(number),
                    self.settings.screen_pop_timeout,
                )
        path = self._result(path_task)
        history = self._result(history_task)
        self.enqueue(complete_screen_pop(message, path, history))

    def _lookup(
        self, lookup: Callable[[str], Awaitable[Any]] | None, key: str
    ) -> asyncio.Task[Any] | None:
        if lookup is None:
            return None

        async def call() -> Any:
            async with self._lookup_slots:
                return await lookup(key)

        task = asyncio.create_task(call())
        self._pops.add(task)  # cancelled by close() like the pop waiting for it
        task.add_done_callback(self._pops.discard)
        return task

    def _result(self, task: asyncio.Task[Any] | None) -> Any:
        if task is None or not task.done() or task.cancelled():
            return None
        exc = task.exception()
        if exc is not None:
            if self._lookup_log.due():
                self._log.warning("screen pop lookup failed: %s", exc)
            return None
        return task.result()

    # -- the publishing task -----------------------------------------------------------
    async def run(self) -> None:
        """Connect, publish, reconnect with backoff, until `close()`."""
        self._run_task = asyncio.current_task()
        failures = 0
        while not self._closed:
            try:
                async with self._client() as client:
                    self.connected = True
                    self.connections += 1
                    if failures:
                        self._log.info(
                            "MQTT broker %s reachable again after %d failed attempts; "
                            "%d messages queued, %d dropped so far",
                            self.address,
                            failures,
                            len(self._pending),
                            self.dropped,
                        )
                    else:
                        self._log.info("connected to MQTT broker %s", self.address)
                    failures = 0
                    await self._publish_online(client)
                    await self._session(client)
                    await self._publish_offline(client)
                    return
            except Exception as exc:  # MqttError, or a TLS or password file that fails to read
                failure = exc
            finally:
                self.connected = False
            if self._closed:
                return
            delay = self._backoff(failures)
            failures += 1
            self.connect_failures += 1
            log_now = self._fail_log.due()  # the first failure, then once a minute
            if failures == 1 or log_now:
                self._log.warning(
                    "MQTT broker %s: %s; retrying in %.1fs (attempt %d; %d queued, %d dropped)",
                    self.address,
                    str(failure) or type(failure).__name__,
                    delay,
                    failures,
                    len(self._pending),
                    self.dropped,
                )
            else:
                self._log.debug("MQTT broker %s still failing: %s", self.address, failure)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    while not self._closed:
                        await self._wake.wait()
                        self._wake.clear()

    async def _session(self, client: aiomqtt.Client) -> None:
        """Publish until closed; a lost link ends it at once, even while nothing is sent."""
        drain = asyncio.create_task(self._drain(client))
        watch = asyncio.create_task(self._watch(client))
        try:
            done, _ = await asyncio.wait({drain, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (drain, watch):
                task.cancel()
            await asyncio.gather(drain, watch, return_exceptions=True)
        for task in done:
            task.result()  # why it ended: MqttError when the broker went away

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        """Raises MqttError when the connection drops (nothing is subscribed, so nothing
        else ever arrives here)."""
        async for _ in client.messages:
            pass
        raise aiomqtt.MqttError("connection closed")

    async def _drain(self, client: aiomqtt.Client) -> None:
        """Publish until closed and empty; a failure propagates and ends the session."""
        while True:
            if not self._pending:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            message = self._pending[0]
            await client.publish(
                message.topic,
                message.encode(),
                qos=1,
                retain=message.retain,
                timeout=self.settings.publish_timeout,
            )
            # Taken off only now: one lost with the link is sent again (at least once). A
            # drop for room while we waited may already have taken it.
            if self._pending and self._pending[0] is message:
                self._pending.popleft()
            self.published += 1

    def _client(self) -> aiomqtt.Client:
        settings = self.settings
        return aiomqtt.Client(
            self.host,
            self.port,
            username=settings.username,
            password=read_password(settings) if settings.username else None,
            identifier=settings.client_id,
            timeout=settings.publish_timeout,
            keepalive=KEEPALIVE_SECONDS,
            tls_context=tls_context(settings) if self.tls else None,
            will=aiomqtt.Will(self._status_topic(), self._status(False), qos=1, retain=True),
            logger=logging.getLogger("acd.mqtt.client"),
        )

    def _status_topic(self) -> str:
        return f"{self.settings.topic_prefix}/engine"

    def _status(self, online: bool) -> bytes:
        payload = {"v": 1, "type": "engine.status", "at": iso(time.time()), "online": online}
        return Message(self._status_topic(), payload).encode()

    async def _publish_online(self, client: aiomqtt.Client) -> None:
        await client.publish(
            self._status_topic(),
            self._status(True),
            qos=1,
            retain=True,
            timeout=self.settings.publish_timeout,
        )

    async def _publish_offline(self, client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            await client.publish(
                self._status_topic(),
                self._status(False),
                qos=1,
                retain=True,
                timeout=self.settings.publish_timeout,
            )

    def _backoff(self, failures: int) -> float:
        base = min(self._backoff_max, self._backoff_initial * 2.0 ** min(failures, 30))
        return base * random.uniform(0.8, 1.0)

    async def close(self, flush_within: float = 1.0) -> None:
        """Stop: what is queued gets `flush_within` seconds to go out, then the task ends;
        the pops' records close once no pop or lookup is left to use them."""
        self._closed = True
        self._wake.set()
        pops = list(self._pops)
        for task in pops:
            task.cancel()
        await asyncio.gather(*pops, return_exceptions=True)
        if self._records is not None:  # closing twice is harmless: nothing is left to release
            await self._records.close()
        run_task = self._run_task
        if run_task is None or run_task.done() or run_task is asyncio.current_task():
            return
        try:
            async with asyncio.timeout(flush_within):
                await asyncio.shield(run_task)
        except TimeoutError:
            run_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run_task
        if self._pending:
            self._log.info("MQTT publisher closed with %d messages unsent", len(self._pending))
