"""The control socket's requests (`acd status`, `acd agent ...`, `acd supervise ...`) answered.

`acd.control` carries JSON lines over the Unix socket; this is what the engine does with
them: a status snapshot, an agent action run through the one consumer like any other event,
a supervisor's request to join a call. Each answer is `{"ok": True, ...}` or
`{"ok": False, "error": why}`, never an exception, so the CLI can print it as it comes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from acd.ami import AmiDisconnected, AmiError, AmiTimeout
from acd.config.models import Config
from acd.core import events as ev
from agents.commands import OPERATOR, CommandError, event_for, spy_mode

Reply = dict[str, Any]


class Control:
    """The handler `acd.control.ControlServer` calls with each request.

    Whoever reaches the socket is root on the engine's machine, so requests are asked as the
    `OPERATOR`; what is wrong with one is `agents.commands`' to say, as for the web and the
    phones, and what only the core can refuse comes back from the consumer.
    """

    def __init__(
        self,
        get_config: Callable[[], Config],
        status: Callable[[], dict[str, Any]],
        command: Callable[[ev.Event], Awaitable[str | None]],
        agent_state: Callable[[str], str | None],
        supervise: Callable[[str, str, str], Awaitable[None]],
    ) -> None:
        self._config = get_config
        self._status = status
        self._command = command
        self._agent_state = agent_state
        self._supervise = supervise

    async def __call__(self, request: dict[str, Any]) -> Reply:
        command = request.get("cmd")
        if command == "status":
            return {"ok": True, "status": self._status()}
        if command == "agent":
            return await self._agent(request)
        if command == "supervise":
            return await self._supervise_request(request)
        return {"ok": False, "error": f"unknown command {command!r}"}

    async def _agent(self, request: dict[str, Any]) -> Reply:
        agent = str(request.get("agent", ""))
        try:
            event = event_for(
                self._config(),
                str(request.get("action")),
                agent,
                by=OPERATOR,
                reason=request.get("reason"),
                queues=request.get("queues"),
            )
        except CommandError as exc:
            return {"ok": False, "error": str(exc)}
        error = await self._command(event)
        if error is not None:
            return {"ok": False, "error": error}
        return {"ok": True, "agent": agent, "state": self._agent_state(agent)}

    async def _supervise_request(self, request: dict[str, Any]) -> Reply:
        agent, supervisor = str(request.get("agent")), str(request.get("supervisor"))
        try:
            mode = spy_mode(
                self._config(), str(request.get("mode", "")), agent, supervisor=supervisor
            )
            await self._supervise(mode.value, agent, supervisor)
        except (CommandError, ValueError, AmiDisconnected, AmiError, AmiTimeout) as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "mode": mode.value, "agent": agent}
