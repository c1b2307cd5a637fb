"""Feature codes agents dial from their own softphones: *41 login, *42 logout, *43 pause
(with a reason key), *44 ready.

Runs as a FastAGI route. The phone a code comes from is the agent's identity; login also asks
for the work number and PIN, so a phone left on a desk cannot log someone else in.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from acd.agi import AgiSession
from acd.config.models import Config
from acd.core import events as ev
from acd.prompts import sound_name

log = logging.getLogger("acd.agents.phone")

# Submits an event to the core and returns None, or the reason it was refused.
Submit = Callable[[ev.Event], Awaitable[str | None]]


def endpoint_of(channel: str) -> str:
    """`PJSIP/1001-0000002a` -> `1001`."""
    return channel.removeprefix("PJSIP/").rsplit("-", 1)[0]


# ChanSpy options (after q: quiet, E: end with the call) for each supervision feature code.
SPY_MODES = {"listen": "", "whisper": "w", "barge": "B"}


def make_phone_handler(
    get_config: Callable[[], Config],
    get_pins: Callable[[], dict[str, str]],
    submit: Submit,
    spy_channel: Callable[[str, str], str],
) -> Callable[[AgiSession], Awaitable[None]]:
    async def handle(session: AgiSession) -> None:
        config = get_config()
        language = config.centre.language

        def sound(prompt: str) -> str:
            return sound_name(config, prompt, language)

        action = session.request.params.get("action", "")
        agent = endpoint_of(session.request.channel)
        await session.answer()
        event: ev.Event | None = None
        error: str | None = None
        if agent not in {a.number for a in config.agents}:
            error = f"phone {agent} belongs to no agent"
        elif action == "login":
            number, _ = await session.get_data(sound("agent_number"), 10_000, 10)
            pin, _ = await session.get_data(sound("agent_pin"), 10_000, 10)
            expected = get_pins().get(agent, "")
            if number != agent:
                error = f"agent number {number!r} keyed on phone {agent}"
            elif not expected or not hmac.compare_digest(pin, expected):
                error = "wrong PIN"
            else:
                event = ev.AgentLogin(agent)
        elif action == "logout":
            event = ev.AgentLogout(agent)
        elif action == "pause":
            key = session.request.params.get("reason", "")
            reason = config.centre.pause_reasons.get(key, "break") if key else "break"
            event = ev.AgentPause(agent, reason)
        elif action == "ready":
            event = ev.AgentReady(agent)
        elif action in ("join", "leave"):
            event = ev.TakeCalls(agent, action == "join")
        elif action in SPY_MODES:
            # Supervisors listen, whisper or barge from their own phone: *47/*48/*49 + agent.
            try:
                channel = spy_channel(agent, session.request.params.get("agent", ""))
            except ValueError as exc:
                error = str(exc)
            else:
                log.info("supervisor %s: %s on %s", agent, action, channel)
                await session.exec("ChanSpy", f"{channel},qE{SPY_MODES[action]}")
                return
        else:
            error = f"unknown feature {action!r}"
        if event is not None:
            error = await submit(event)
        if error:
            log.info("agent %s: %s refused: %s", agent, action, error)
        else:
            log.info("agent %s: %s from the phone", agent, action)
        await session.stream_file(sound("agent_failed" if error else "agent_done"))

    return handle
