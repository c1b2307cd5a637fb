"""What the core asks the world to do. Adapters carry these out; results come back as events."""

from __future__ import annotations

from dataclasses import dataclass

from acd.core.facts import Fact


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring `agent` for `call_id`, showing the caller's number, for at most `ring_timeout` s."""

    call_id: str
    caller_channel: str
    caller: str
    agent: str
    endpoint: str  # PJSIP endpoint name of the agent's softphone
    ring_timeout: float
    queue: str
    # A callback: the agent is rung first, then this number is dialled with the agent on the
    # line; `kind` says which ("virtual-hold", "after-hours", "callback", "revisit").
    callback_number: str | None = None
    kind: str = "inbound"
    # When the caller entered (for the screen pop's "waited" and the web's views).
    entered_at: float = 0.0
    hotline: str = ""
    attempt: int = 1  # offers made for this call, this one included


@dataclass(frozen=True, slots=True)
class CancelOffer:
    """Stop ringing the agent: the caller hung up while the agent's phone rang."""

    call_id: str
    agent: str


@dataclass(frozen=True, slots=True)
class CallRecord:
    """The call detail record as known now; written with upsert semantics on `call_id`.

    Emitted at entry, at answer and at the end, so a crash between those loses nothing that
    was already known.
    """

    call_id: str
    caller: str
    hotline: str
    queue: str
    entered_at: float
    agent: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    disposition: str = "waiting"  # waiting, ringing, answered, abandoned, timeout
    hangup_side: str | None = None  # caller, agent, system
    offers: int = 0
    # "inbound", or the callback kind for calls the dialer placed ("virtual-hold" keeps the
    # caller's original call; "after-hours", "callback", "revisit" are new outbound calls).
    kind: str = "inbound"

    @property
    def wait_seconds(self) -> float | None:
        end = self.answered_at if self.answered_at is not None else self.ended_at
        return None if end is None else round(end - self.entered_at, 3)

    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return round(self.ended_at - self.answered_at, 3)


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell a waiting caller their place in line and expected wait (whole seconds)."""

    call_id: str
    caller_channel: str
    position: int
    expected_wait: int


@dataclass(frozen=True, slots=True)
class ExitQueue:
    """Take a caller out of waiting: max wait, full queue, or no agents (`reason`).

    The adapter plays `goodbye_prompt` (if any) and hangs up; moves to another queue are not
    exits, the core does them itself and reports them in the call record.
    """

    call_id: str
    caller_channel: str
    reason: str  # "timeout", "full", "empty"
    goodbye_prompt: str | None
    hotline: str = ""  # whose language the goodbye is spoken in


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """For records and events: an agent moved between states."""

    agent: str
    old: str
    new: str
    reason: str | None
    at: float
    # The queues the agent serves after the change, in config order (queue_log members).
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentRecalled:
    """An agent on a break is asked back: a rule suspended breaks (the seeds' peak plan)."""

    agent: str
    reason: str  # the break the agent is on
    rule: str
    at: float


@dataclass(frozen=True, slots=True)
class CallbackReleased:
    """A scheduled callback the core was given is handed back undialled (business hours
    ended, the queue is gone): it stays pending in the records for a later poll."""

    callback_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """A caller asked to be called back (in the IVR or after hours), due by `due_at`."""

    call_id: str
    caller: str
    hotline: str
    queue: str
    kind: str  # "callback", "after-hours", "revisit", "virtual-hold"
    requested_at: float
    due_at: float
    # "pending" for the dialer's poll; a virtual-hold request is "queued": the caller waits
    # in line (the core dials it), and becomes pending only if that dial fails.
    status: str = "pending"


@dataclass(frozen=True, slots=True)
class RuleChanged:
    """A queue-depth rule fired or cleared (the seeds' peak plan), with what it saw.

    `scope` is a queue name or "*" for the whole centre; `metrics` are the values that made
    it change, by metric name; `actions` are the rule's actions ("suspend-callbacks", ...),
    applied on "fired" and undone on "cleared".
    """

    rule: str
    state: str  # "fired" or "cleared"
    scope: str
    metrics: tuple[tuple[str, float], ...]
    actions: tuple[str, ...]
    at: float
    # The rule's alert messages (its `alert` actions), for whoever is watching.
    alerts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallbackAttempt:
    """One dial of a callback: the agent reserved for it, the number dialled and the outcome.

    `callback_id` is the `callbacks` row for scheduled callbacks (after hours, revisit) and
    None for a caller who chose to be called back from the queue (virtual hold), whose
    `call_id` is the original call. `outcome`: "answered", "no-answer", "busy", "failed",
    "agent-no-answer".
    """

    callback_id: int | None
    call_id: str
    number: str
    queue: str
    kind: str  # "virtual-hold", "callback", "after-hours", "revisit"
    agent: str
    attempt: int
    outcome: str
    at: float
    # When to dial again; None: no more dials (answered, or the last attempt failed).
    retry_at: float | None = None


Decision = (
    Offer
    | CancelOffer
    | CallRecord
    | AgentStateChanged
    | Announce
    | ExitQueue
    | AgentRecalled
    | CallbackReleased
    | RuleChanged
    | CallbackAttempt
    | CallbackRequested
    | Fact
)
