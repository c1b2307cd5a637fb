"""Feature codes agents dial from their own softphones: *41 login, *42 logout, *43 pause
(with a reason key), *44 ready; supervisors also join and leave the queues and listen,
whisper or barge in on an agent's call.

Runs as a FastAGI route. The phone a code comes from is the agent's identity; login also asks
for the work number and PIN, so a phone left on a desk cannot log someone else in. What a
code may do is `agents.commands`' policy, the same as for the web and the control socket.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from acd.agi import AgiSession
from acd.config.models import Config
from acd.core import events as ev
from acd.prompts import sound_name
from agents.commands import SPY_MODES, AgentAction, actor_of, event_for, reason_on_key, spy_mode

log = logging.getLogger("acd.agents.phone")

# Submits an event to the core and returns None, or the reason it was refused.
Submit = Callable[[ev.Event], Awaitable[str | None]]


def endpoint_of(channel: str) -> str:
    """`PJSIP/1001-0000002a` -> `1001`."""
    return channel.removeprefix("PJSIP/").rsplit("-", 1)[0]


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

        params = session.request.params
        action = params.get("action", "")
        agent = endpoint_of(session.request.channel)
        await session.answer()
        event: ev.Event | None = None
        error: str | None = None
        try:
            by = actor_of(config, agent)
            if action == AgentAction.LOGIN:
                number, _ = await session.get_data(sound("agent_number"), 10_000, 10)
                pin, _ = await session.get_data(sound("agent_pin"), 10_000, 10)
                expected = get_pins().get(agent, "")
                if number != agent:
                    error = f"agent number {number!r} keyed on phone {agent}"
                elif not expected or not hmac.compare_digest(pin, expected):
                    error = "wrong PIN"
                else:
                    event = event_for(config, action, agent, by=by)
            elif action in SPY_MODES:
                # Supervisors listen, whisper or barge from their own phone: *47/*48/*49 + agent.
                target = params.get("agent", "")
                mode = spy_mode(config, action, target, supervisor=agent)
                channel = spy_channel(agent, target)
                log.info("supervisor %s: %s on %s", agent, mode, channel)
                await session.exec("ChanSpy", f"{channel},qE{mode.chanspy_options}")
                return
            else:
                key = params.get("reason", "")
                reason = reason_on_key(config, key) if action == AgentAction.PAUSE else None
                event = event_for(config, action, agent, by=by, reason=reason)
        except ValueError as exc:  # CommandError, or spy_channel's "not on a call"
            error = str(exc)
        if event is not None:
            error = await submit(event)
        if error:
            log.info("agent %s: %s refused: %s", agent, action, error)
        else:
            log.info("agent %s: %s from the phone", agent, action)
        await session.stream_file(sound("agent_failed" if error else "agent_done"))

    return handle
