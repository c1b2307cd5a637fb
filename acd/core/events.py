"""What the world tells the core.

Adapters (AMI, AGI, the control socket) translate what they see into these values and put them
on the one consumer queue; the core never sees a socket or a frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CallEntered:
    """A caller left the IVR for a queue and is now holding in Asterisk."""

    call_id: str  # the caller channel's Uniqueid
    channel: str  # the caller channel's name, needed to bridge it
    caller: str  # caller number as presented
    hotline: str
    queue: str
    priority: int = 0
    entered_at: float | None = None  # set when rebuilt from Asterisk after a restart
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller's channel is gone, whatever it was doing."""

    call_id: str


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    """The agent answered the offered call and the bridge to the caller started."""

    call_id: str
    agent: str
    agent_channel: str = ""


@dataclass(frozen=True, slots=True)
class OfferFailed:
    """The agent leg never answered: ring timeout, busy, unreachable or refused."""

    call_id: str
    agent: str
    reason: str  # "no-answer", "busy", "unavailable", "failed"


@dataclass(frozen=True, slots=True)
class AgentLegHungUp:
    """The agent's leg of a connected call ended."""

    call_id: str
    agent: str


@dataclass(frozen=True, slots=True)
class AgentLogin:
    agent: str


@dataclass(frozen=True, slots=True)
class AgentLogout:
    agent: str


@dataclass(frozen=True, slots=True)
class AgentReady:
    agent: str


@dataclass(frozen=True, slots=True)
class AgentPause:
    agent: str
    reason: str = "break"


@dataclass(frozen=True, slots=True)
class TakeCalls:
    """Put a supervisor on the queues (`enabled`) or take them off again.

    Supervisors are never offered queue calls unless this was sent: the team lead joins the
    line when the load asks for it (the seeds' 16-waiting rule), not by default. For an agent
    of role "agent" it changes nothing: they take calls anyway.
    """

    agent: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class DeviceState:
    """Asterisk's view of an agent's softphone (from DeviceStateChange / DeviceStateList)."""

    agent: str
    state: str  # Asterisk device state: NOT_INUSE, INUSE, RINGING, UNAVAILABLE, UNKNOWN, ...


@dataclass(frozen=True, slots=True)
class Resync:
    """A full picture of which caller channels still exist, taken after an AMI login.

    Calls the core believes in that are not in `live_calls` ended while we were blind.
    Waiting callers the core does not know yet are sent as `CallEntered` separately.
    """

    live_calls: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class SetQueues:
    """A supervisor moves an agent: from now on the agent takes calls of these queues only,
    skills or not (None: back to the queues the agent's skills fit). Not kept across an
    engine restart; the config is where lasting moves belong."""

    agent: str
    queues: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class KeepCallback:
    """A waiting caller pressed the callback key: call me back, keeping my place (virtual
    hold). Refused (`Refused`) while a rule suspends callbacks or the queue has no virtual
    hold; accepted, the caller hangs up and the call waits in line without a channel."""

    call_id: str


@dataclass(frozen=True, slots=True)
class CallbackDue:
    """A scheduled callback (after hours, revisit, a retry) is due and inside business hours.

    Sent by the dialer's poll of the records; `not_after` is when business hours end, after
    which the core no longer dials it (it stays pending in the records for the next day).
    """

    callback_id: int
    number: str
    hotline: str
    queue: str
    kind: str
    requested_at: float
    attempt: int  # dials already made
    not_after: float


@dataclass(frozen=True, slots=True)
class CallbackFailed:
    """The customer's phone did not answer a callback dial (`outcome`: no-answer, busy,
    failed, ...). A customer who answered and later hangs up is a `CallerHungUp`."""

    call_id: str
    outcome: str


@dataclass(frozen=True, slots=True)
class CallbackAnswered:
    """The customer answered the callback: agent and customer are talking."""

    call_id: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed; the core fires whatever timers are due."""


Event = (
    CallEntered
    | CallerHungUp
    | OfferAnswered
    | OfferFailed
    | AgentLegHungUp
    | AgentLogin
    | AgentLogout
    | AgentReady
    | AgentPause
    | TakeCalls
    | SetQueues
    | KeepCallback
    | CallbackDue
    | CallbackFailed
    | CallbackAnswered
    | DeviceState
    | Resync
    | Tick
)
