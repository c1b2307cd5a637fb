"""FastAGI side of the IVR: plays and collects what `IvrFlow` asks for, nothing more.

Type-ahead: every prompt is played with all keys as escape digits, so a caller who knows the
menu can press before the prompt ends; the key ends playback and goes straight to the flow.
Voice is Asterisk's own judgement (WaitForNoise over dsp.conf's threshold), not a guess.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from acd.agi import AgiHangup, AgiSession
from acd.clock import Clock
from acd.config.hotlines import HotlineConfig
from acd.config.models import Config
from acd.core.decisions import CallbackRequested
from acd.privacy import mask_number
from acd.prompts import sound_name
from acd.records.items import IvrPath, MessageLeft, Record, SurveyScore
from ivr.flow import Callback, Collect, Enqueue, Hangup, IvrFlow, Listen, Message, TransferOut
from ivr.schedule import due_by

log = logging.getLogger("acd.ivr")
ALL_KEYS = "0123456789*#"
Handler = Callable[[AgiSession], Awaitable[None]]
Submit = Callable[[Record], None]


def make_ivr_handler(get_config: Callable[[], Config], clock: Clock, submit: Submit) -> Handler:
    async def handle(session: AgiSession) -> None:
        config = get_config()
        request = session.request
        hotline = request.params.get("hotline", config.hotlines[0].name)
        flow = IvrFlow(config, hotline)
        call = _Call(session, config, flow.hotline, clock)
        log.info("IVR %s: call from %s", hotline, mask_number(request.callerid))
        await session.answer()
        step = flow.start(datetime.fromtimestamp(clock.now(), tz=UTC))
        try:
            while isinstance(step, Collect | Listen):
                if isinstance(step, Collect):
                    digit = await call.collect(step)
                    step = flow.on_digit(digit) if digit else flow.on_timeout()
                else:
                    step = flow.on_voice() if await call.listen(step) else flow.on_silence()
        finally:
            submit(
                IvrPath(
                    request.uniqueid, request.callerid, hotline, "/".join(flow.path), clock.now()
                )
            )
        if isinstance(step, Enqueue):
            recording = config.queue(step.queue).recording
            if recording.announce_prompt and recording.policy != "never":
                # Told before the wait, so it never talks over the agent's greeting.
                await call.play((recording.announce_prompt,))
            await session.set_variable("ACD_CALL_ID", request.uniqueid)
            await session.set_variable("ACD_PRIORITY", str(step.priority))
            await session.set_variable("ACD_ENTERED", f"{clock.now():.3f}")
            if config.queue(step.queue).virtual_hold:
                await session.set_variable("ACD_VHOLD", "1")  # the hold offers a callback
            # Last: the dialplan treats a set ACD_QUEUE as "go and hold".
            await session.set_variable("ACD_QUEUE", step.queue)
            log.info("IVR %s: %s -> queue %s", hotline, "/".join(flow.path), step.queue)
        elif isinstance(step, Callback):
            now = clock.now()
            submit(
                CallbackRequested(
                    request.uniqueid,
                    request.callerid,
                    hotline,
                    step.queue,
                    step.kind,
                    now,
                    call.due(now, step.within_working_days),
                )
            )
            await call.play(step.prompts)
        elif isinstance(step, Message):
            await call.play(step.prompts)
            message = await call.record(step.max_seconds)
            if message is not None:
                submit(
                    MessageLeft(request.uniqueid, request.callerid, hotline, *message, clock.now())
                )
            if step.thanks_prompt:
                await call.play((step.thanks_prompt,))
        elif isinstance(step, TransferOut):
            if not await call.transfer(step):
                await call.play((step.failed_prompt,))
        elif isinstance(step, Hangup) and step.prompt:
            await call.play((step.prompt,))

    return handle


def make_survey_handler(get_config: Callable[[], Config], clock: Clock, submit: Submit) -> Handler:
    """After the agent hangs up: the seeds' satisfaction rating, 1 to the scale's top."""

    async def handle(session: AgiSession) -> None:
        config = get_config()
        hotline = config.hotline(session.request.params.get("hotline") or config.hotlines[0].name)
        call = _Call(session, config, hotline, clock)
        survey = hotline.survey
        if survey is None or not survey.enabled:
            if hotline.goodbye_prompt:
                await call.play((hotline.goodbye_prompt,))
            return
        call_id = await session.get_variable("ACD_CALL_ID") or session.request.uniqueid
        digits, _ = await session.get_data(
            call.sound(survey.prompt), int(survey.timeout_seconds * 1000), 1
        )
        if digits.isdigit() and 1 <= int(digits) <= survey.scale:
            score = int(digits)
            now = clock.now()
            unhappy = score <= survey.dissatisfied_at_or_below
            # The seeds: the team lead listens to a dissatisfied call within 2 hours.
            due = now + config.centre.review_within_hours * 3600 if unhappy else None
            submit(SurveyScore(call_id, score, survey.scale, unhappy, now, review_due_at=due))
            log.info("survey for %s: %d/%d", call_id, score, survey.scale)
        if survey.thanks_prompt:
            await call.play((survey.thanks_prompt,))

    return handle


class _Call:
    """One caller's line, in the hotline's language."""

    def __init__(
        self, session: AgiSession, config: Config, hotline: HotlineConfig, clock: Clock
    ) -> None:
        self.session = session
        self.config = config
        self.hotline = hotline
        self.clock = clock

    def sound(self, prompt: str) -> str:
        return sound_name(self.config, prompt, self.hotline.language)

    async def play(self, prompts: tuple[str, ...]) -> None:
        for prompt in prompts:
            await self.session.stream_file(self.sound(prompt))

    async def collect(self, step: Collect) -> str:
        for prompt in step.prompts:
            digit = await self.session.stream_file(self.sound(prompt), ALL_KEYS)
            if digit:
                return digit
        return await self.session.wait_for_digit(int(step.timeout_seconds * 1000))

    async def listen(self, step: Listen) -> bool:
        """True when Asterisk heard a voice within the time, False for silence."""
        await self.session.stream_file(self.sound(step.prompt))
        await self.session.exec("WaitForNoise", f"{step.voice_ms},1,{step.seconds:g}")
        return (await self.session.get_variable("WAITSTATUS")) == "NOISE"

    def due(self, now: float, working_days: int) -> float:
        calendar = self.config.calendar_for(self.hotline.name)
        return due_by(calendar, datetime.fromtimestamp(now, tz=UTC), working_days).timestamp()

    async def record(self, max_seconds: int) -> tuple[str, float] | None:
        """Record a message; returns (path as Asterisk sees it, seconds) or None if empty."""
        asterisk = self.config.asterisk
        stamp = datetime.fromtimestamp(self.clock.now(), tz=UTC).strftime("%Y%m%d-%H%M%S")
        name = f"messages/{stamp}-{_safe(self.session.request.uniqueid)}"
        # A caller who hangs up to finish still leaves the message: Asterisk keeps the file.
        with contextlib.suppress(AgiHangup):
            await self.session.command(
                f"RECORD FILE {asterisk.spool_dir}/{name} wav # {max_seconds * 1000} BEEP s=5",
                reply_timeout=max_seconds + 30,
            )
        local = Path(asterisk.spool_dir_local) / f"{name}.wav"
        if not local.exists() or local.stat().st_size <= 44:
            return None
        seconds = (local.stat().st_size - 44) / 16000  # 8 kHz, 16-bit mono
        return f"{asterisk.spool_dir}/{name}.wav", round(seconds, 2)

    async def transfer(self, step: TransferOut) -> bool:
        await self.session.exec("Dial", f"PJSIP/{step.number}@partners,{step.ring_seconds}")
        return (await self.session.get_variable("DIALSTATUS")) == "ANSWER"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in text)
