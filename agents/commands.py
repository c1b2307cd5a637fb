"""What an agent or a supervisor may ask of the core, checked once for every way of asking.

The control socket (`acd agent ...`), the web pages and the agents' phones all turn a request
("pause 1002 for lunch", "move 1003 to billing", "listen to 1001") into a core event here, so a
request is valid or refused by the same rules wherever it comes from. Everything wrong with a
request is one error type, `CommandError`, whose `problem` says what kind of wrong it is so an
adapter can answer in its own terms (an HTTP status, a prompt, a JSON error) without
re-checking anything. What only the core can know (a break refused at peak time, an illegal
state change) is still the core's answer, not checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from acd.config.models import AgentConfig, Config
from acd.core import events as ev


class AgentAction(StrEnum):
    """The actions on an agent; the values are the words of the URLs, the control socket
    and the phones' AGI routes."""

    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    READY = "ready"
    JOIN = "join"  # put a supervisor on the queues (TakeCalls)
    LEAVE = "leave"  # take a supervisor off them again
    MOVE = "move"  # serve these queues only, skills or not (SetQueues)


#: Actions only a supervisor may take: deciding who answers which line is the team lead's
#: call, not the agent's.
SUPERVISOR_ACTIONS = frozenset({AgentAction.JOIN, AgentAction.LEAVE, AgentAction.MOVE})


class PauseReason(StrEnum):
    """Pause reasons the code itself names. The reasons an agent may choose are the site's
    (`centre.pause_reasons` in the config, these four by default); the last two are set by
    the core on its own and are never chosen."""

    BREAK = "break"  # also what a pause without a reason means (`*43` alone)
    LUNCH = "lunch"
    TRAINING = "training"
    MEETING = "meeting"
    NO_ANSWER = "no-answer"  # let an offer ring out
    UNREACHABLE = "unreachable"  # the phone could not be reached for an offer


class SpyMode(StrEnum):
    """How a supervisor joins an agent's call from their own phone."""

    LISTEN = "listen"
    WHISPER = "whisper"  # the agent hears the supervisor, the caller does not
    BARGE = "barge"  # both hear the supervisor

    @property
    def chanspy_options(self) -> str:
        """ChanSpy's options for the mode (after `qE`: quiet, end with the call)."""
        return _CHANSPY[self]


_CHANSPY: Mapping[SpyMode, str] = MappingProxyType(
    {SpyMode.LISTEN: "", SpyMode.WHISPER: "w", SpyMode.BARGE: "B"}
)
#: The same, for code that looks a mode up by its word (`"listen" in SPY_MODES`).
SPY_MODES: Mapping[str, str] = MappingProxyType({mode.value: _CHANSPY[mode] for mode in SpyMode})


class Problem(StrEnum):
    """What is wrong with a request; adapters map it to their own answer (e.g. HTTP 404,
    422 or 403)."""

    UNKNOWN_ACTION = "unknown-action"
    UNKNOWN_AGENT = "unknown-agent"
    UNKNOWN_REASON = "unknown-reason"
    UNKNOWN_MODE = "unknown-mode"
    UNKNOWN_QUEUE = "unknown-queue"  # also: queues that are not a list of names
    NOT_ALLOWED = "not-allowed"  # the asker may not do this (to this agent)


class CommandError(ValueError):
    """A request that is wrong whatever the core's state: the message is for the person
    who asked, `problem` for the adapter that answers them.

    A ValueError so the callers that already treat ValueError as "refused, say why" keep
    doing so."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks. An agent acts only on themself and never takes a supervisor's action; a
    supervisor acts on anyone. `agent` is the asker's own work number, if they have one."""

    agent: str | None
    supervises: bool


#: The control socket: whoever can reach it is root on the engine's machine.
OPERATOR = Actor(agent=None, supervises=True)


def actor_of(config: Config, number: str) -> Actor:
    """The holder of a work number as the config knows them: a phone's owner."""
    return Actor(number, _agent(config, number).role == "supervisor")


def event_for(
    config: Config,
    action: str,
    agent: str,
    *,
    by: Actor,
    reason: object = None,
    queues: object = None,
) -> ev.Event:
    """The core event for `action` on `agent` asked by `by`, or CommandError.

    `reason` (pause only) is one of the site's pause reasons, none meaning `break`;
    `queues` (move only) is a list of queue names, none or empty meaning "back to the
    queues the agent's skills fit". Both arrive as the asker sent them (JSON, a socket
    message), so their types are checked here too.
    """
    try:
        what = AgentAction(action)
    except ValueError:
        raise CommandError(Problem.UNKNOWN_ACTION, f"no action {action!r}") from None
    _agent(config, agent)
    if not by.supervises:
        if by.agent != agent:
            raise CommandError(Problem.NOT_ALLOWED, "agents act only on themselves")
        if what in SUPERVISOR_ACTIONS:
            raise CommandError(Problem.NOT_ALLOWED, f"{what.value} is for supervisors")
    match what:
        case AgentAction.LOGIN:
            return ev.AgentLogin(agent)
        case AgentAction.LOGOUT:
            return ev.AgentLogout(agent)
        case AgentAction.READY:
            return ev.AgentReady(agent)
        case AgentAction.PAUSE:
            return ev.AgentPause(agent, pause_reason(config, reason))
        case AgentAction.JOIN | AgentAction.LEAVE:
            return ev.TakeCalls(agent, what is AgentAction.JOIN)
        case AgentAction.MOVE:
            return ev.SetQueues(agent, _queues(config, queues))


def pause_reason(config: Config, reason: object) -> str:
    """`reason` if it is one of the site's pause reasons; none means `break`."""
    why = PauseReason.BREAK.value if reason is None or reason == "" else reason
    choices = choosable_reasons(config)
    if not isinstance(why, str) or why not in choices:
        raise CommandError(
            Problem.UNKNOWN_REASON, f"pause reason: one of {', '.join(sorted(choices))}"
        )
    return why


def choosable_reasons(config: Config) -> list[str]:
    """The site's pause reasons in the order of their phone keys, each once."""
    return list(
        dict.fromkeys(
            config.centre.pause_reasons[key] for key in sorted(config.centre.pause_reasons)
        )
    )


def reason_on_key(config: Config, key: str) -> str:
    """The pause reason on a phone key (`*43` + key); no key means `break`."""
    if not key:
        return PauseReason.BREAK.value
    try:
        return config.centre.pause_reasons[key]
    except KeyError:
        raise CommandError(Problem.UNKNOWN_REASON, f"no pause reason on key {key!r}") from None


def spy_mode(config: Config, mode: str, agent: str, *, supervisor: str) -> SpyMode:
    """The mode of a supervisor's request to join `agent`'s call, or CommandError: the
    mode, the agent and the supervisor must exist and the asker must be a supervisor by
    the config (a web admin's role is not enough: it is their phone that rings)."""
    try:
        chosen = SpyMode(mode)
    except ValueError:
        raise CommandError(Problem.UNKNOWN_MODE, f"no mode {mode!r}") from None
    _agent(config, agent)
    require_supervisor(config, supervisor)
    return chosen


def require_supervisor(config: Config, number: str) -> AgentConfig:
    """The supervisor holding `number`, or CommandError: joining a call is a supervisor's
    act by the config, whoever asks for it (the engine checks it again just before it rings
    the phone, with this same rule)."""
    spec = config.agent(number)
    if spec is None or spec.role != "supervisor":
        raise CommandError(Problem.NOT_ALLOWED, f"{number} is not a supervisor")
    return spec


def _agent(config: Config, number: str) -> AgentConfig:
    spec = config.agent(number)
    if spec is None:
        raise CommandError(Problem.UNKNOWN_AGENT, f"no agent {number}")
    return spec


def _queues(config: Config, queues: object) -> tuple[str, ...] | None:
    if queues is None or queues == [] or queues == ():
        return None
    if not isinstance(queues, list | tuple) or not all(isinstance(q, str) for q in queues):
        raise CommandError(Problem.UNKNOWN_QUEUE, "queues: a list of queue names, or null")
    known = {queue.name for queue in config.queues}
    unknown = [q for q in queues if q not in known]
    if unknown:
        raise CommandError(Problem.UNKNOWN_QUEUE, f"no queue {', '.join(unknown)}")
    return tuple(queues)
