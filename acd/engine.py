"""The engine process: adapters around the pure core, joined by one consumer task.

Everything that happens (AMI events, IVR results, CLI commands, timers) becomes an event on
one queue; a single task feeds them to the core in order and carries out its decisions. Events
therefore never interleave inside an update, and the core needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from acd.agi import FastAgiServer
from acd.ami import AmiClient, AmiDisconnected, AmiError, AmiTimeout, Message
from acd.clock import Clock, SystemClock
from acd.config.models import Config
from acd.control import ControlServer
from acd.core import events as ev
from acd.core.core import Core, Refused, UnknownAgent
from acd.core.decisions import (
    AgentRecalled,
    AgentStateChanged,
    Announce,
    CallbackAttempt,
    CallbackReleased,
    CallbackRequested,
    CallRecord,
    CancelOffer,
    Decision,
    ExitQueue,
    Offer,
    Record,
    RuleChanged,
)
from acd.dialer import CallbackPoller, callback_event, make_keep_handler
from acd.live.metrics import EngineMetrics
from acd.live.mqtt import MqttPublisher
from acd.privacy import clean_number, mask_number
from acd.prompts import sound_name
from acd.records.migrate import upgrade_async
from acd.records.queue_log import QueueLogWriter
from acd.records.timeline import Timeline, records_observer
from acd.records.writer import RecordWriter
from acd.secrets import load_secrets
from acd.settings import Paths
from agents.phone import SPY_MODES, make_phone_handler
from agents.state import IllegalTransition
from ivr.agi_app import make_ivr_handler, make_survey_handler
from recordings.live import LiveRecording, Recorder

log = logging.getLogger("acd.engine")

#: Sees every event the core handled, the decisions it answered with and the time it used.
#: Observers (queue_log, MQTT, metrics, the web pages) must be quick and must not raise;
#: one that raises is logged and the others still run.
Observer = Callable[[ev.Event, list[Decision], float], None]

# OriginateResponse Reason codes (Asterisk's AST_CONTROL_* values) to why the offer failed.
# PJSIPShowEndpoints spells device states for people; the core uses Asterisk's state names.
ENDPOINT_STATES = {
    "Not in use": "NOT_INUSE",
    "In use": "INUSE",
    "Busy": "BUSY",
    "Invalid": "INVALID",
    "Unavailable": "UNAVAILABLE",
    "Ringing": "RINGING",
    "Ring+Inuse": "RINGINUSE",
    "On Hold": "ONHOLD",
    "Unknown": "UNKNOWN",
}
# MixMonitor writes the file's last frames after the hang-up; give it a moment.
RECORDING_SETTLE_SECONDS = 1.5
RESYNC_ATTEMPTS = 5
ORIGINATE_REASONS = {"3": "no-answer", "5": "busy", "8": "unavailable", "1": "rejected"}


@dataclass
class Command:
    """A CLI request: an event whose outcome the caller waits for."""

    event: ev.Event
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass
class Leg:
    """An agent leg the engine originated, so AMI events about it can be told apart."""

    call_id: str
    agent: str
    endpoint: str
    channel: str = ""
    answered: bool = False
    hung_up: bool = False


class Engine:
    def __init__(self, config: Config, paths: Paths, clock: Clock | None = None) -> None:
        self.config = config
        self.paths = paths
        self.clock = clock or SystemClock()
        self.core = Core(config)
        self.queue: asyncio.Queue[ev.Event | Command] = asyncio.Queue()
        self.writer = RecordWriter(paths.database_url, logger=logging.getLogger("acd.records"))
        self.secrets = load_secrets(paths.secrets_file, [a.number for a in config.agents])
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
                "ivr": make_ivr_handler(lambda: self.config, self.clock, self._record),
                "survey": make_survey_handler(lambda: self.config, self.clock, self._record),
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
        self.control = ControlServer(paths.control_socket, self._control)
        self.recorder = Recorder(config)
        self.legs: dict[str, Leg] = {}  # agent leg uniqueid -> leg
        self.hotline_of: dict[str, str] = {}  # live call -> its hotline, for prompt language
        self.queue_of: dict[str, str] = {}  # live call -> the queue Asterisk's channel names
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        # Calls that entered by a live event while a resync runs: not in its channel list,
        # which was taken before, yet alive (see `_resync_once`).
        self._entered_during_resync: set[str] | None = None
        self.observers: list[Observer] = []
        # Metrics always (cheap); MQTT events when configured (docs/events.md).
        self.metrics = EngineMetrics(self.core, ami_reconnects=lambda: self.ami.reconnects)
        self.observers.append(self.metrics.observe)
        mqtt = config.engine.mqtt
        self.events = MqttPublisher.with_database(mqtt, paths.database_url) if mqtt else None
        if self.events is not None:
            self.metrics.watch_publisher(self.events)
            self.observers.append(self.events.observe)
        # Each call's timeline to the records, and Asterisk's queue_log for reporting tools.
        self.queue_log = QueueLogWriter.from_setting(config.engine.queue_log, paths.state_dir)
        self.observers.append(
            records_observer(
                Timeline(lambda: self.config),
                self.writer.submit,
                self.queue_log.write if self.queue_log is not None else None,
            )
        )

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
            for task in (ami_task, consumer, poller_task, *self._tasks):
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
            except (IllegalTransition, UnknownAgent, Refused) as exc:
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
                self._execute(decision)
            self._notify(event, decisions, now)

    def _record(self, item: Record) -> None:
        """Records made outside the core (IVR, survey): to the writer and, as events
        (a callback requested, a review due), to MQTT."""
        self.writer.submit(item)
        if self.events is not None:
            self.events.record(item, self.clock.now())

    def _notify(self, event: ev.Event, decisions: list[Decision], now: float) -> None:
        for observer in self.observers:
            try:
                observer(event, decisions, now)
            except Exception:
                log.exception("observer %r failed on %s", observer, type(event).__name__)

    async def command(self, event: ev.Event) -> str | None:
        """Run an agent command through the consumer; None, or why it was refused."""
        cmd = Command(event)
        await self.queue.put(cmd)
        try:
            await cmd.done
        except (IllegalTransition, UnknownAgent, Refused, RuntimeError) as exc:
            return str(exc)
        return None

    def _execute(self, decision: Decision) -> None:
        if isinstance(decision, CallRecord):
            if decision.ended_at is None:
                self.hotline_of[decision.call_id] = decision.hotline
                self._follow_queue_move(decision)
            else:
                self.hotline_of.pop(decision.call_id, None)
                self.queue_of.pop(decision.call_id, None)
                recording = self.recorder.finished(decision)
                if recording is not None:
                    self._spawn(self._check_recording(recording, decision.talk_seconds or 0.0))
        if isinstance(decision, RuleChanged):
            log.warning(
                "rule %s %s (%s): %s",
                decision.rule,
                decision.state,
                decision.scope,
                ", ".join(f"{name}={value:g}" for name, value in decision.metrics),
            )
        elif isinstance(decision, AgentRecalled):
            log.info(
                "agent %s asked back from %s (rule %s)",
                decision.agent,
                decision.reason,
                decision.rule,
            )
        elif isinstance(decision, CallbackReleased):
            log.info("callback %s handed back: %s", decision.callback_id, decision.reason)
        if isinstance(decision, RuleChanged | CallbackAttempt | CallbackRequested):
            self.writer.submit(decision)
        elif isinstance(decision, CallRecord | AgentStateChanged):
            self.writer.submit(decision)
            if isinstance(decision, AgentStateChanged):
                log.info(
                    "agent %s: %s -> %s%s",
                    decision.agent,
                    decision.old,
                    decision.new,
                    f" ({decision.reason})" if decision.reason else "",
                )
        elif isinstance(decision, Offer):
            self._spawn(self._originate(decision))
        elif isinstance(decision, CancelOffer):
            self._spawn(self._cancel(decision))
        elif isinstance(decision, Announce):
            self._spawn(self._announce(decision))
        elif isinstance(decision, ExitQueue):
            self._spawn(self._exit(decision, self.hotline_of.pop(decision.call_id, "")))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- decisions to Asterisk ----------------------------------------------------------
    async def _originate(self, offer: Offer) -> None:
        leg_id = f"acd-{uuid.uuid4().hex}"
        self.legs[leg_id] = Leg(offer.call_id, offer.agent, offer.endpoint)
        record_to = self.recorder.plan(
            leg_id, offer.call_id, offer.agent, offer.caller, offer.queue, self.clock.now()
        )
        log.info(
            "offering %s (%s) to agent %s",
            offer.call_id,
            mask_number(offer.caller),
            offer.agent,
        )
        variables = [
            f"ACD_CALLER_CHAN={offer.caller_channel}",
            f"ACD_CALL_ID={offer.call_id}",
            f"ACD_AGENT={offer.agent}",
            f"ACD_RECORD_FILE={record_to or ''}",
        ]
        context, name = "acd-agent-connect", offer.caller
        if offer.callback_number is not None:
            # The agent first; the dialplan dials the customer once the agent answers.
            context, name = "acd-callback-connect", f"callback {offer.callback_number}"
            variables += [
                f"ACD_CALLBACK_NUMBER={offer.callback_number}",
                f"ACD_CALLBACK_RING={int(self.config.callbacks.ring_seconds)}",
            ]
        try:
            await self.ami.action(
                "Originate",
                Channel=f"PJSIP/{offer.endpoint}",
                Context=context,
                Exten="s",
                Priority="1",
                Timeout=str(int(offer.ring_timeout * 1000)),
                CallerID=caller_id(name, offer.caller),
                ChannelId=leg_id,
                Async="true",  # a synchronous Originate blocks AMI for the whole ring time
                Variable=variables,
            )
        except (AmiDisconnected, AmiError, AmiTimeout) as exc:
            log.warning("originate to agent %s failed: %s", offer.agent, exc)
            self.legs.pop(leg_id, None)
            self.recorder.dropped(leg_id)
            self.queue.put_nowait(ev.OfferFailed(offer.call_id, offer.agent, "failed"))

    async def _cancel(self, cancel: CancelOffer) -> None:
        for leg_id, leg in list(self.legs.items()):
            if leg.call_id == cancel.call_id and leg.agent == cancel.agent:
                channel = leg.channel or f"/^PJSIP\\/{leg.endpoint}-/"
                with contextlib.suppress(AmiDisconnected, AmiError, AmiTimeout):
                    await self.ami.action("Hangup", Channel=channel, Cause="16")
                self.legs.pop(leg_id, None)

    async def _mute(self, channel: str, mute: bool) -> None:
        with contextlib.suppress(AmiDisconnected, AmiError, AmiTimeout):
            await self.ami.action(
                "MixMonitorMute", Channel=channel, Direction="both", State="1" if mute else "0"
            )

    async def _check_recording(self, recording: LiveRecording, talk_seconds: float) -> None:
        """Once Asterisk has closed the file: it must be there and as long as the talk."""
        await asyncio.sleep(RECORDING_SETTLE_SECONDS)
        made = await asyncio.to_thread(self.recorder.check, recording, talk_seconds)
        self.writer.submit(made)
        if made.status != "ok":
            log.warning(
                "recording of call %s (agent %s) is %s: %s (%.1fs of %.1fs talk)",
                made.call_id,
                made.agent,
                made.status,
                made.path,
                made.seconds,
                talk_seconds,
            )

    def spy_channel(self, supervisor: str, agent: str) -> str:
        """The agent's live call leg a supervisor may listen to; ValueError says why not."""
        spec = next((a for a in self.config.agents if a.number == supervisor), None)
        if spec is None or spec.role != "supervisor":
            raise ValueError(f"{supervisor} is not a supervisor")
        for leg in self.legs.values():
            if leg.agent == agent and leg.answered and leg.channel:
                return leg.channel
        raise ValueError(f"agent {agent} is not on a call")

    async def supervise(self, mode: str, agent: str, supervisor: str) -> None:
        """Ring the supervisor's phone; on answer it listens, whispers or barges in."""
        channel = self.spy_channel(supervisor, agent)
        stamp = datetime.fromtimestamp(self.clock.now(), tz=UTC).strftime("%Y/%m/%d/%Y%m%d-%H%M%S")
        record = f"{self.config.asterisk.spool_dir}/supervision/{stamp}_{supervisor}_{agent}.wav"
        await self.ami.action(
            "Originate",
            Channel=f"PJSIP/{supervisor}",
            Context="acd-supervise",
            Exten="s",
            Priority="1",
            Timeout="30000",
            CallerID=f'"{mode} {agent}" <{agent}>',
            Async="true",
            Variable=[
                f"ACD_SPY_CHANNEL={channel}",
                f"ACD_SPY_MODES={SPY_MODES[mode]}",
                f"ACD_RECORD_FILE={record}",
            ],
        )
        log.info("supervisor %s: %s on agent %s", supervisor, mode, agent)

    def _follow_queue_move(self, record: CallRecord) -> None:
        """Keep the channel's ACD_QUEUE true after an overflow, so a resync finds the call
        in the queue it is really in."""
        known = self.queue_of.get(record.call_id)
        self.queue_of[record.call_id] = record.queue
        call = self.core.calls.get(record.call_id)
        if known is not None and known != record.queue and call is not None:
            self._spawn(self._setvar(call.channel, "ACD_QUEUE", record.queue))

    async def _setvar(self, channel: str, name: str, value: str) -> None:
        with contextlib.suppress(AmiDisconnected, AmiError, AmiTimeout):
            await self.ami.action("Setvar", Channel=channel, Variable=name, Value=value)

    async def _announce(self, announce: Announce) -> None:
        call = self.core.calls.get(announce.call_id)
        # Only a caller still on hold: redirecting one an agent is bridging would break the call.
        if call is None or call.record.disposition != "waiting":
            return
        try:
            playing = await self.ami.action(
                "Getvar", Channel=announce.caller_channel, Variable="ACD_ANNOUNCING"
            )
            if playing.get("Value"):
                return  # still hearing the last one: never cut an announcement short
            await self._redirect(
                announce.caller_channel,
                "acd-announce",
                ACD_AHEAD=str(announce.position - 1),
                ACD_EWT_MIN=str(max(1, math.ceil(announce.expected_wait / 60))),
            )
        except (AmiDisconnected, AmiError, AmiTimeout) as exc:
            log.info("announcement to %s skipped: %s", announce.call_id, exc)

    async def _exit(self, exit_: ExitQueue, hotline: str) -> None:
        sound = ""
        if exit_.goodbye_prompt:
            language = self.config.hotline(hotline).language if hotline else "zh"
            with contextlib.suppress(KeyError):
                sound = sound_name(self.config, exit_.goodbye_prompt, language)
        log.info("caller %s leaves the queue: %s", exit_.call_id, exit_.reason)
        try:
            await self._redirect(exit_.caller_channel, "acd-exit", ACD_EXIT_SOUND=sound)
        except (AmiDisconnected, AmiError, AmiTimeout) as exc:
            log.warning("could not take %s out of the queue: %s", exit_.call_id, exc)

    async def _redirect(self, channel: str, context: str, **variables: str) -> None:
        """Send a holding caller to `context` with the channel variables it reads."""
        for name, value in variables.items():
            await self.ami.action("Setvar", Channel=channel, Variable=name, Value=value)
        await self.ami.action("Redirect", Channel=channel, Context=context, Exten="s", Priority="1")

    # -- AMI events to core events ------------------------------------------------------
    def _on_ami_event(self, msg: Message) -> None:
        name = msg.get("Event")
        callback = callback_event(msg)
        if callback is not None:
            self.queue.put_nowait(callback)
        elif name == "UserEvent" and msg.get("UserEvent") == "AcdEnqueued":
            entered = self._call_entered(msg)
            if entered is not None:
                self.queue.put_nowait(entered)
                if self._entered_during_resync is not None:
                    self._entered_during_resync.add(entered.call_id)
        elif name == "Newchannel":
            leg = self.legs.get(msg.get("Uniqueid") or "")
            if leg is not None:
                leg.channel = msg.get("Channel") or ""
        elif name == "OriginateResponse":
            self._originate_response(msg)
        elif name == "Hangup":
            uid = msg.get("Uniqueid") or ""
            leg = self.legs.get(uid)
            if leg is not None:
                if leg.answered:
                    self.legs.pop(uid, None)
                    self.queue.put_nowait(ev.AgentLegHungUp(leg.call_id, leg.agent))
                else:
                    # Ringing ended: the OriginateResponse that follows says why.
                    leg.hung_up = True
            elif uid in self.core.calls:
                self.queue.put_nowait(ev.CallerHungUp(uid))
        elif name == "DeviceStateChange":
            self._device_state(msg)
        elif name == "DTMFEnd" and msg.get("Direction") == "Received":
            change = self.recorder.key(
                msg.get("Uniqueid") or "", msg.get("Digit") or "", self.clock.now()
            )
            if change is not None:
                channel, mute = change
                log.info("agent leg %s %s recording", channel, "paused" if mute else "resumed")
                self._spawn(self._mute(channel, mute))

    def _call_entered(self, msg: Message, entered_at: float | None = None) -> ev.CallEntered | None:
        variables = chan_variables(msg)
        uid = msg.get("Uniqueid")
        channel = msg.get("Channel")
        if not uid or not channel or not variables.get("ACD_QUEUE"):
            # Not the whole event: it carries the caller's number, which logs only show masked.
            log.warning(
                "AcdEnqueued without channel or queue: Uniqueid %r, Channel %r, variables %s",
                uid,
                channel,
                variables,
            )
            return None
        try:
            priority = int(variables.get("ACD_PRIORITY") or 0)
        except ValueError:
            priority = 0
        return ev.CallEntered(
            call_id=uid,
            channel=channel,
            # A CR in it would make every Originate carrying it refused, offer after offer.
            caller=clean_number(msg.get("CallerIDNum") or ""),
            hotline=variables.get("ACD_HOTLINE", ""),
            queue=variables["ACD_QUEUE"],
            priority=priority,
            entered_at=entered_at,
        )

    def _originate_response(self, msg: Message) -> None:
        uid = msg.get("Uniqueid") or ""
        leg = self.legs.get(uid)
        if leg is None:
            # A failed originate may name no channel; at most one offer per agent is
            # outstanding, so the endpoint identifies the leg.
            requested = (msg.get("Channel") or "").split("-")[0]
            for candidate_id, candidate in self.legs.items():
                if f"PJSIP/{candidate.endpoint}" == requested:
                    uid, leg = candidate_id, candidate
                    break
        if leg is None:
            return
        if msg.get("Response") == "Success":
            leg.answered = True
            self.recorder.answered(uid, leg.channel, self.clock.now())
            self.queue.put_nowait(ev.OfferAnswered(leg.call_id, leg.agent, leg.channel))
            if leg.hung_up:  # answered and gone before we heard of the answer
                self.legs.pop(uid, None)
                self.queue.put_nowait(ev.AgentLegHungUp(leg.call_id, leg.agent))
        else:
            self.legs.pop(uid, None)
            self.recorder.dropped(uid)
            reason = ORIGINATE_REASONS.get(msg.get("Reason") or "", "unavailable")
            log.info(
                "agent %s did not take %s: %s (reason %s)",
                leg.agent,
                leg.call_id,
                reason,
                msg.get("Reason"),
            )
            self.queue.put_nowait(ev.OfferFailed(leg.call_id, leg.agent, reason))

    def _device_state(self, msg: Message) -> None:
        device = msg.get("Device") or ""
        if device.startswith("PJSIP/"):
            agent = device.removeprefix("PJSIP/")
            if agent in self.core.agents:
                self.queue.put_nowait(ev.DeviceState(agent, msg.get("State") or "UNKNOWN"))

    def _blind(self) -> None:
        """AMI is gone: no phone can be rung, and what we knew of them may be stale. Until the
        resync after the next login tells otherwise, every phone counts as unknown (never
        rung), so the core does not offer calls it cannot place, again and again."""
        for agent in self.core.agents:
            self.queue.put_nowait(ev.DeviceState(agent, "UNKNOWN"))

    async def _resync(self) -> None:
        """After every login: rebuild what we may have missed from Asterisk itself.

        An Asterisk that has just started may refuse the lists for a moment (modules still
        loading): tried again a few times; a dropped link resyncs at its next login anyway.
        """
        for attempt in range(1, RESYNC_ATTEMPTS + 1):
            try:
                await self._resync_once()
                return
            except AmiDisconnected:
                return
            except (AmiError, AmiTimeout) as exc:
                log.warning("resync attempt %d failed: %s", attempt, exc)
                self._entered_during_resync = None
                await asyncio.sleep(1.0)
            finally:
                self._entered_during_resync = None
        log.error("could not resync with Asterisk; waiting callers may be unknown until relogin")

    async def _resync_once(self) -> None:
        _, endpoints = await self.ami.action_list("PJSIPShowEndpoints")
        for msg in endpoints:
            agent = msg.get("ObjectName") or ""
            if agent in self.core.agents:
                state = ENDPOINT_STATES.get(msg.get("DeviceState") or "", "UNKNOWN")
                self.queue.put_nowait(ev.DeviceState(agent, state))
        # A call entering after Asterisk listed its channels reaches the queue before the
        # Resync does; counted as live, or the Resync would take it for gone and drop it.
        self._entered_during_resync = set()  # back to None by `_resync`, however this ends
        _, channels = await self.ami.action_list("CoreShowChannels")
        live: set[str] = set()
        holding: list[tuple[float, ev.CallEntered]] = []
        for chan in channels:
            uid = chan.get("Uniqueid") or ""
            live.add(uid)
            if chan.get("Context") != "acd-hold" or uid in self.core.calls:
                continue
            if chan.get("BridgeId"):
                # Pulled into a bridge by its agent: talking, not waiting (the channel still
                # names acd-hold, where Bridge() found it).
                continue
            values = {}
            for var in ("ACD_QUEUE", "ACD_PRIORITY", "ACD_HOTLINE", "ACD_ENTERED"):
                with contextlib.suppress(AmiError):
                    reply = await self.ami.action(
                        "Getvar", Channel=chan.get("Channel") or "", Variable=var
                    )
                    values[var] = reply.get("Value") or ""
            entered = _float(values.get("ACD_ENTERED")) or self.clock.now()
            fake = Message(
                [
                    ("Uniqueid", uid),
                    ("Channel", chan.get("Channel") or ""),
                    ("CallerIDNum", chan.get("CallerIDNum") or ""),
                    *[("ChanVariable", f"{k}={v}") for k, v in values.items()],
                ]
            )
            call = self._call_entered(fake, entered_at=entered)
            if call is not None:
                holding.append((entered, call))
        for _, call in sorted(holding, key=lambda item: item[0]):
            self.queue.put_nowait(call)
        live |= self._entered_during_resync or set()
        self.queue.put_nowait(ev.Resync(frozenset(live)))
        log.info("resynced: %d channels, %d callers holding", len(channels), len(holding))

    # -- control socket -----------------------------------------------------------------
    async def _control(self, request: dict[str, Any]) -> dict[str, Any]:
        command = request.get("cmd")
        if command == "status":
            snapshot = self.core.snapshot(self.clock.now())
            snapshot["ami_connected"] = self.ami.connected
            return {"ok": True, "status": snapshot}
        if command == "agent":
            agent = str(request.get("agent", ""))
            action = request.get("action")
            makers: dict[str, type[ev.AgentLogin | ev.AgentLogout | ev.AgentReady]] = {
                "login": ev.AgentLogin,
                "logout": ev.AgentLogout,
                "ready": ev.AgentReady,
            }
            event: ev.Event
            if action in ("join", "leave"):
                event = ev.TakeCalls(agent, action == "join")
            elif action == "move":
                queues = request.get("queues")
                event = ev.SetQueues(agent, tuple(map(str, queues)) if queues else None)
            elif action == "pause":
                event = ev.AgentPause(agent, str(request.get("reason") or "break"))
            elif action in makers:
                event = makers[action](agent)
            else:
                return {"ok": False, "error": f"unknown agent action {action!r}"}
            error = await self.command(event)
            if error is not None:
                return {"ok": False, "error": error}
            return {"ok": True, "agent": agent, "state": self.core.agents[agent].state.value}
        if command == "supervise":
            mode = str(request.get("mode", ""))
            if mode not in SPY_MODES:
                return {"ok": False, "error": f"unknown mode {mode!r}"}
            try:
                await self.supervise(
                    mode, str(request.get("agent")), str(request.get("supervisor"))
                )
            except (ValueError, AmiDisconnected, AmiError, AmiTimeout) as exc:
                return {"ok": False, "error": str(exc)}
            return {"ok": True, "mode": mode, "agent": request.get("agent")}
        return {"ok": False, "error": f"unknown command {command!r}"}


def caller_id(name: str, number: str) -> str:
    """`"name" <number>` for an agent's phone, without the quotes and angle brackets a
    caller could put in their own caller ID to garble what the agent sees."""
    unsafe = str.maketrans("", "", '"<>\\')
    return f'"{name.translate(unsafe)}" <{number.translate(unsafe)}>'


def chan_variables(msg: Message) -> dict[str, str]:
    """The `ChanVariable: NAME=value` headers manager.conf's channelvars adds to events."""
    out = {}
    for item in msg.getall("ChanVariable"):
        name, _, value = item.partition("=")
        out[name.strip()] = value
    return out


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
