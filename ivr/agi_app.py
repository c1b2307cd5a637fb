"""FastAGI side of the IVR: plays and collects what `IvrFlow` asks for, nothing more.

Type-ahead: every prompt is played with all keys as escape digits, so a caller who knows the
menu can press before the prompt ends; the key ends playback and goes straight to the flow.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from acd.agi import AgiSession
from acd.clock import Clock
from acd.config.models import Config
from acd.privacy import mask_number
from acd.prompts import sound_name
from ivr.flow import Collect, Enqueue, Goodbye, IvrFlow

log = logging.getLogger("acd.ivr")
ALL_KEYS = "0123456789*#"


def make_ivr_handler(
    get_config: Callable[[], Config], clock: Clock
) -> Callable[[AgiSession], Awaitable[None]]:
    async def handle(session: AgiSession) -> None:
        config = get_config()
        request = session.request
        hotline = request.params.get("hotline", config.hotlines[0].name)
        flow = IvrFlow(config, hotline)
        language = flow.hotline.language
        log.info("IVR %s: call from %s", hotline, mask_number(request.callerid))
        await session.answer()
        step = flow.start()
        while isinstance(step, Collect):
            digit = ""
            for prompt in step.prompts:
                digit = await session.stream_file(sound_name(config, prompt, language), ALL_KEYS)
                if digit:
                    break
            if not digit:
                digit = await session.wait_for_digit(int(step.timeout_seconds * 1000))
            step = flow.on_digit(digit) if digit else flow.on_timeout()
        if isinstance(step, Enqueue):
            await session.set_variable("ACD_CALL_ID", request.uniqueid)
            await session.set_variable("ACD_PRIORITY", str(step.priority))
            await session.set_variable("ACD_ENTERED", f"{clock.now():.3f}")
            await session.set_variable("ACD_IVR_PATH", "/".join(flow.path))
            # Last: the dialplan treats a set ACD_QUEUE as "go and hold".
            await session.set_variable("ACD_QUEUE", step.queue)
            log.info("IVR %s: %s -> queue %s", hotline, "/".join(flow.path), step.queue)
        elif isinstance(step, Goodbye) and step.prompt:
            await session.stream_file(sound_name(config, step.prompt, language))

    return handle
