"""The core's decisions carried out on Asterisk, in order for each call.

One `match` over what the consumer hands over (`Effector.run`): effects (`Offer`,
`CancelOffer`, `Announce`, `ExitQueue`), the one fact that touches Asterisk (`CallMoved`: the
channel's ACD_QUEUE follows the call, so a resync after a restart finds it in the queue it is
really in), the final call record (its recording is checked on disk) and the agent's recording
keys. Everything else is for the records and the projections, not for Asterisk.

Why lanes: AMI actions take a round trip each, so they run as tasks, off the consumer. Tasks
started one per effect may finish in any order, and an `ExitQueue` could then overtake the
`Announce` just before it for the same caller (the goodbye redirected away, then the
announcement redirecting the caller back into the queue's music). Every effect is queued on
its call's lane instead: one chain of tasks per call id, run strictly in the order the core
decided them, while different calls proceed concurrently. A call's lane ends with its last
effect, so idle calls cost nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol

from acd.ami import AmiDisconnected, AmiError, AmiTimeout, FieldValue, Message
from acd.clock import Clock
from acd.config.models import Config
from acd.core import events as ev
from acd.core.decisions import Announce, CallRecord, CancelOffer, Decision, ExitQueue, Offer
from acd.core.entities import CallStatus
from acd.core.facts import CallMoved
from acd.engine.translator import MuteRecording, Translator
from acd.privacy import mask_number
from acd.prompts import sound_name
from acd.records.items import Record
from agents.commands import SPY_MODES, require_supervisor
from recordings.live import LiveRecording, Recorder

log = logging.getLogger(__name__)

#: What an AMI action may fail with; an effect that fails is logged, never raised.
AMI_FAILURES = (AmiDisconnected, AmiError, AmiTimeout)
# MixMonitor writes the file's last frames after the hang-up; give it a moment.
RECORDING_SETTLE_SECONDS = 1.5


class AmiSender(Protocol):
    async def action(self, name: str, /, **fields: FieldValue) -> Message: ...


class Lanes:
    """One chain of tasks per key: jobs of a key run one after another in submission order,
    jobs of different keys concurrently."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Task[None]] = {}
        self.tasks: set[asyncio.Task[None]] = set()  # everything still running, for shutdown

    def submit(self, key: str, job: Coroutine[Any, Any, None]) -> None:
        before = self._tails.get(key)
        task = asyncio.create_task(self._after(before, job))
        self._tails[key] = task
        self.tasks.add(task)
        task.add_done_callback(lambda done: self._done(key, done))

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """A job in no lane: nothing else waits for it or is waited for."""
        task = asyncio.create_task(job)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _after(
        self, before: asyncio.Task[None] | None, job: Coroutine[Any, Any, None]
    ) -> None:
        if before is not None:
            # asyncio.wait, not await: the job before failing or being cancelled is no
            # reason for this one not to run.
            try:
                await asyncio.wait({before})
            except asyncio.CancelledError:  # shutdown: the job never starts
                job.close()
                raise
        try:
            await job
        except Exception:  # an effect's bug must not stop the ones behind it
            log.exception("effect failed")

    def _done(self, key: str, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if self._tails.get(key) is task:
            del self._tails[key]

    def idle(self) -> bool:
        return not self.tasks


class Effector:
    """Carries out decisions through `ami()` (looked up per action, so a client swapped in by
    a test or a benchmark is the one used); results come back as events through `put`."""

    def __init__(
        self,
        ami: Callable[[], AmiSender],
        get_config: Callable[[], Config],
        clock: Clock,
        translator: Translator,
        recorder: Recorder,
        status_of: Callable[[str], CallStatus | None],
        put: Callable[[ev.Event], None],
        record: Callable[[Record], None],
    ) -> None:
        self._ami = ami
        self._config = get_config
        self._clock = clock
        self._translator = translator
        self._recorder = recorder
        self._status_of = status_of
        self._put = put
        self._record = record
        self.lanes = Lanes()

    def run(self, item: Decision | MuteRecording) -> None:
        """Start what `item` asks of Asterisk, behind whatever its call already waits for."""
        match item:
            case Offer():
                self.lanes.submit(item.call_id, self._originate(item))
            case CancelOffer():
                self.lanes.submit(item.call_id, self._cancel(item))
            case Announce():
                self.lanes.submit(item.call_id, self._announce(item))
            case ExitQueue():
                self.lanes.submit(item.call_id, self._exit(item))
            case CallMoved() if item.channel:
                self.lanes.submit(
                    item.call_id, self._setvar(item.channel, "ACD_QUEUE", item.to_queue)
                )
            case MuteRecording():
                self.lanes.submit(item.call_id, self._mute(item.channel, item.mute))
            case CallRecord() if item.ended_at is not None:
                recording = self._recorder.finished(item)
                if recording is not None:
                    self.lanes.spawn(self._check_recording(recording, item.talk_seconds or 0.0))
            case _:
                pass  # for the records and the projections only

    # -- effects ------------------------------------------------------------------------
    async def _originate(self, offer: Offer) -> None:
        leg_id = f"acd-{uuid.uuid4().hex}"
        self._translator.expect(leg_id, offer.call_id, offer.agent, offer.endpoint)
        record_to = self._recorder.plan(
            leg_id, offer.call_id, offer.agent, offer.caller, offer.queue, self._clock.now()
        )
        log.info(
            "offering %s (%s) to agent %s", offer.call_id, mask_number(offer.caller), offer.agent
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
                f"ACD_CALLBACK_RING={int(self._config().callbacks.ring_seconds)}",
            ]
        try:
            await self._ami().action(
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
        except AMI_FAILURES as exc:
            log.warning("originate to agent %s failed: %s", offer.agent, exc)
            self._translator.forget(leg_id)
            self._put(ev.OfferFailed(offer.call_id, offer.agent, "failed"))

    async def _cancel(self, cancel: CancelOffer) -> None:
        for leg_id, leg in self._translator.legs_of(cancel.call_id, cancel.agent):
            channel = leg.channel or f"/^PJSIP\\/{leg.endpoint}-/"
            with contextlib.suppress(*AMI_FAILURES):
                await self._ami().action("Hangup", Channel=channel, Cause="16")
            self._translator.legs.pop(leg_id, None)

    async def _announce(self, announce: Announce) -> None:
        # Only a caller still on hold: redirecting one an agent is bridging would break the call.
        if self._status_of(announce.call_id) is not CallStatus.WAITING:
            return
        ami = self._ami()
        try:
            playing = await ami.action(
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
        except AMI_FAILURES as exc:
            log.info("announcement to %s skipped: %s", announce.call_id, exc)

    async def _exit(self, exit_: ExitQueue) -> None:
        sound = ""
        if exit_.goodbye_prompt:
            config = self._config()
            language = config.hotline(exit_.hotline).language if exit_.hotline else "zh"
            with contextlib.suppress(KeyError):
                sound = sound_name(config, exit_.goodbye_prompt, language)
        log.info("caller %s leaves the queue: %s", exit_.call_id, exit_.reason)
        try:
            await self._redirect(exit_.caller_channel, "acd-exit", ACD_EXIT_SOUND=sound)
        except AMI_FAILURES as exc:
            log.warning("could not take %s out of the queue: %s", exit_.call_id, exc)

    async def _redirect(self, channel: str, context: str, **variables: str) -> None:
        """Send a holding caller to `context` with the channel variables it reads."""
        ami = self._ami()
        for name, value in variables.items():
            await ami.action("Setvar", Channel=channel, Variable=name, Value=value)
        await ami.action("Redirect", Channel=channel, Context=context, Exten="s", Priority="1")

    async def _setvar(self, channel: str, name: str, value: str) -> None:
        with contextlib.suppress(*AMI_FAILURES):
            await self._ami().action("Setvar", Channel=channel, Variable=name, Value=value)

    async def _mute(self, channel: str, mute: bool) -> None:
        log.info("agent leg %s %s recording", channel, "paused" if mute else "resumed")
        with contextlib.suppress(*AMI_FAILURES):
            await self._ami().action(
                "MixMonitorMute", Channel=channel, Direction="both", State="1" if mute else "0"
            )

    async def _check_recording(self, recording: LiveRecording, talk_seconds: float) -> None:
        """Once Asterisk has closed the file: it must be there and as long as the talk."""
        await asyncio.sleep(RECORDING_SETTLE_SECONDS)
        made = await asyncio.to_thread(self._recorder.check, recording, talk_seconds)
        self._record(made)
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

    # -- supervision: asked for by a person, answered to them ----------------------------
    def spy_channel(self, supervisor: str, agent: str) -> str:
        """The agent's live call leg a supervisor may listen to; ValueError says why not
        (the role by the one policy's CommandError, `agents.commands`)."""
        require_supervisor(self._config(), supervisor)
        channel = self._translator.talking_channel(agent)
        if channel is None:
            raise ValueError(f"agent {agent} is not on a call")
        return channel

    async def supervise(self, mode: str, agent: str, supervisor: str) -> None:
        """Ring the supervisor's phone; on answer it listens, whispers or barges in."""
        channel = self.spy_channel(supervisor, agent)
        config = self._config()
        stamp = datetime.fromtimestamp(self._clock.now(), tz=UTC).strftime("%Y/%m/%d/%Y%m%d-%H%M%S")
        record = f"{config.asterisk.spool_dir}/supervision/{stamp}_{supervisor}_{agent}.wav"
        await self._ami().action(
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


def caller_id(name: str, number: str) -> str:
    """`"name" <number>` for an agent's phone, without the quotes and angle brackets a
    caller could put in their own caller ID to garble what the agent sees."""
    unsafe = str.maketrans("", "", '"<>\\')
    return f'"{name.translate(unsafe)}" <{number.translate(unsafe)}>'
