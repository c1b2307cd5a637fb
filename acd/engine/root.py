"""The engine process: adapters around the pure core, joined by one consumer task.

Everything that happens (AMI events, IVR results, CLI commands, timers) becomes an event on
one queue; a single task feeds them to the core in order and hands its decisions on, one way:
effects to the effector (Asterisk, in order per call), the whole step to the sink (records and
the projections). Events therefore never interleave inside an update, and the core needs no
locks. This module only builds the pieces, runs them and stops them:

    AMI msg -> Translator.feed -> queue -> consumer -> Core.handle -> Effector.run (per call)
                                                                   -> Sink.decided (records,
                                                                      timeline, MQTT, web)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from acd.agi import FastAgiServer
from acd.ami import AmiClient, Message
from acd.clock import Clock, SystemClock
from acd.config.models import Config
from acd.control import ControlServer
from acd.core import events as ev
from acd.core.core import Core
from acd.core.driver import REFUSALS
from acd.core.entities import CallStatus
from acd.dialer import CallbackPoller, make_keep_handler
from acd.engine.control import Control
from acd.engine.effects import Effector
from acd.engine.resync import Resync
from acd.engine.sink import Observer, Sink
from acd.engine.translator import MuteRecording, Translator
from acd.live.metrics import EngineMetrics
from acd.live.mqtt import MqttPublisher
from acd.records.items import Record
from acd.records.migrate import upgrade_async
from acd.records.queue_log import QueueLogWriter
from acd.records.timeline import Timeline, records_observer
from acd.records.writer import RecordWriter
from acd.secrets import load_secrets
from acd.settings import Paths
from agents.phone import make_phone_handler
from ivr.agi_app import make_ivr_handler, make_survey_handler
from recordings.live import Recorder

log = logging.getLogger("acd.engine")


@dataclass
class Command:
    """A CLI request: an event whose outcome the caller waits for."""

    event: ev.Event
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Engine:
    def __init__(self, config: Config, paths: Paths, clock: Clock | None = None) -> None:
        self.config = config
        self.paths = paths
        self.clock = clock or SystemClock()
        self.core = Core(config)
        self.queue: asyncio.Queue[ev.Event | Command] = asyncio.Queue()
        self.writer = RecordWriter(paths.database_url, logger=logging.getLogger("acd.records"))
        self.sink = Sink(self.writer.submit, self.clock)
        self.observers: list[Observer] = self.sink.observers
        self.secrets = load_secrets(paths.secrets_file, [a.number for a in config.agents])
        self.recorder = Recorder(config)
        self.translator = Translator(
            self.recorder,
            self.clock,
            knows_call=self.core.has_call,
            knows_agent=self.core.has_agent,
        )
        self.effector = Effector(
            lambda: self.ami,
            lambda: self.config,
            self.clock,
            self.translator,
            self.recorder,
            status_of=self._status_of,
            put=self.queue.put_nowait,
            record=self.record,
        )
        self.resync = Resync(
            lambda: self.ami,
            self.clock,
            self.queue.put_nowait,
            knows_call=self.core.has_call,
            agents=self.core.agent_numbers,
        )
        ami = config.engine.ami
        self.ami = AmiClient(
            ami.host,
            ami.port,
            ami.username,
            os.environ.get("ACD_AMI_SECRET") or str(self.secrets["ami_secret"]),
            on_event=self._on_ami_event,
            on_login=self._resync,
            on_disconnect=self._blind,
            ping_interval=ami.ping_interval,
            ping_timeout=ami.ping_timeout,
            logger=logging.getLogger("acd.ami"),
        )
        agi = config.engine.agi
        self.agi = FastAgiServer(
            {
                "ivr": make_ivr_handler(lambda: self.config, self.clock, self.record),
                "survey": make_survey_handler(lambda: self.config, self.clock, self.record),
                "callback": make_keep_handler(self.command),
                "agent": make_phone_handler(
                    lambda: self.config,
                    lambda: dict(self.secrets.get("pins", {})),
                    self.command,
                    self.spy_channel,
                ),
            },
            agi.host,
            agi.port,
            logger=logging.getLogger("acd.agi"),
        )
        self.control = ControlServer(
            paths.control_socket,
            Control(
                lambda: self.config, self._status, self.command, self._agent_state, self.supervise
            ),
        )
        self._stopping = asyncio.Event()
        # Metrics always (cheap); MQTT events when configured (docs/events.md).
        self.metrics = EngineMetrics(self.core, ami_reconnects=lambda: self.ami.reconnects)
        self.observers.append(self.metrics.observe)
        mqtt = config.engine.mqtt
        self.events = MqttPublisher.with_database(mqtt, paths.database_url) if mqtt else None
        if self.events is not None:
            self.metrics.watch_publisher(self.events)
            self.observers.append(self.events.observe)
            self.sink.publish = self.events.record
        # Each call's timeline to the records, and Asterisk's queue_log for reporting tools.
        self.queue_log = QueueLogWriter.from_setting(config.engine.queue_log, paths.state_dir)
        self.observers.append(
            records_observer(
                Timeline(lambda: self.config),
                self.writer.submit,
                self.queue_log.write if self.queue_log is not None else None,
            )
        )

    @property
    def _tasks(self) -> set[asyncio.Task[None]]:
        """The effects still running (the AMI ingest benchmark waits for them)."""
        return self.effector.lanes.tasks

    # -- lifecycle ----------------------------------------------------------------------
    async def run(self) -> None:
        # Records hold callers' numbers: the state directory is the engine user's alone.
        self.paths.state_dir.mkdir(parents=True, exist_ok=True)
        self.paths.state_dir.chmod(0o700)
        await upgrade_async(self.paths.database_url)
        await self.writer.start()
        if self.queue_log is not None:
            await self.queue_log.start()
        await self.agi.start()
        await self.control.start()
        from acd.web.server import start_web  # the wallboard and agent pages, if configured

        web = await start_web(self)
        consumer = asyncio.create_task(self._consume(), name="acd-consumer")
        self.metrics.install()
        live = [asyncio.create_task(self.metrics.watch_loop_lag(), name="acd-loop-lag")]
        if self.events is not None:
            live.append(asyncio.create_task(self.events.run(), name="acd-mqtt"))
        poller = CallbackPoller(
            lambda: self.config, self.paths.database_url, self.queue.put_nowait, self.clock
        )
        poller_task = asyncio.create_task(poller.run(), name="acd-callbacks")
        ami_task = asyncio.create_task(self.ami.run(), name="acd-ami")
        for agent in self.config.agents:
            if agent.auto_login:
                self.queue.put_nowait(ev.AgentLogin(agent.number))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._stopping.set)
        log.info(
            "engine running: AMI %s:%s, FastAGI %s:%s, control %s",
            self.config.engine.ami.host,
            self.config.engine.ami.port,
            self.config.engine.agi.host,
            self.agi.port,
            self.paths.control_socket,
        )
        try:
            await self._stopping.wait()
        finally:
            log.info("engine stopping")
            if web is not None:
                await web.close()
            await self.control.close()
            await self.agi.close()
            await self.ami.close()
            ami_task.cancel()
            consumer.cancel()
            poller_task.cancel()
            # Effects still running end soon with AMI closed; a recording check still gets
            # its row to the writer before the writer closes.
            for task in (ami_task, consumer, poller_task, *list(self._tasks)):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self.events is not None:
                await self.events.close()
            for task in live:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.writer.close()
            if self.queue_log is not None:
                await self.queue_log.close()
            log.info("engine stopped")

    def stop(self) -> None:
        self._stopping.set()

    # -- the one consumer ---------------------------------------------------------------
    async def _consume(self) -> None:
        while True:
            deadline = self.core.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock.now())
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that lands as the get
            # completes (busy queue), and the engine's shutdown then waits for ever.
            item: ev.Event | Command
            try:
                async with asyncio.timeout(timeout):
                    item = await self.queue.get()
            except TimeoutError:
                item = ev.Tick()
            event = item.event if isinstance(item, Command) else item
            now = self.clock.now()
            started = time.perf_counter()
            try:
                decisions = self.core.handle(event, now)
            except REFUSALS as exc:  # a command's asker is told; an AMI event's refusal logged
                if isinstance(item, Command):
                    item.done.set_exception(exc)
                else:
                    log.warning("ignored %s: %s", type(event).__name__, exc)
                continue
            except Exception:  # a core bug must not stop the centre; it is logged loudly
                log.exception("core failed on %r", event)
                if isinstance(item, Command):
                    item.done.set_exception(RuntimeError("internal error, see the engine log"))
                continue
            self.metrics.decision_seconds.observe(time.perf_counter() - started)
            if isinstance(item, Command):
                item.done.set_result(None)
            for decision in decisions:
                self.effector.run(decision)
            self.sink.decided(event, decisions, now)

    def record(self, item: Record) -> None:
        """Records made outside the core (IVR, survey, recordings): the sink's other door."""
        self.sink.record(item)

    async def command(self, event: ev.Event) -> str | None:
        """Run an agent command through the consumer; None, or why it was refused."""
        cmd = Command(event)
        await self.queue.put(cmd)
        try:
            await cmd.done
        except (*REFUSALS, RuntimeError) as exc:
            return str(exc)
        return None

    # -- AMI in -------------------------------------------------------------------------
    def _on_ami_event(self, msg: Message) -> None:
        for item in self.translator.feed(msg):
            if isinstance(item, MuteRecording):
                self.effector.run(item)
                continue
            if isinstance(item, ev.CallEntered):
                self.resync.saw_entry(item.call_id)
            self.queue.put_nowait(item)

    async def _resync(self) -> None:
        await self.resync.run()

    def _blind(self) -> None:
        self.resync.blind()

    # -- what the adapters ask -----------------------------------------------------------
    def _status_of(self, call_id: str) -> CallStatus | None:
        call = self.core.call(call_id)
        return None if call is None else call.status

    def _status(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = self.core.snapshot(self.clock.now())
        snapshot["ami_connected"] = self.ami.connected
        return snapshot

    def _agent_state(self, agent: str) -> str | None:
        view = self.core.agent(agent)
        return None if view is None else view.state.value

    def spy_channel(self, supervisor: str, agent: str) -> str:
        """The agent's live call leg a supervisor may listen to; ValueError says why not."""
        return self.effector.spy_channel(supervisor, agent)

    async def supervise(self, mode: str, agent: str, supervisor: str) -> None:
        """Ring the supervisor's phone; on answer it listens, whispers or barges in."""
        await self.effector.supervise(mode, agent, supervisor)
