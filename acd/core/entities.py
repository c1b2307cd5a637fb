"""The core's live state: calls, agents and queues, with the index bookkeeping they carry.

Plain data; the rules that change it live in `acd.core.state`, `acd.core.calls` and
`acd.core.offers`, behind `acd.core.core.Core`. The engine reads `Call.record`,
`Agent.state` and `Agent.device`; everything else here is the core's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from acd.config.queues import QueueConfig
from acd.core.decisions import CallRecord
from acd.core.estimate import HandleTime
from acd.core.index import AgentBand, AgentKey, CallEntry, Ordered, WaitingLine
from acd.core.routing import QueueKey, QueuePlan, plan_queue
from agents.state import AgentState

# Asterisk device states in which a phone cannot take an ACD call at all. UNKNOWN counts: a
# phone we have heard nothing about is not rung until Asterisk says it is registered.
UNREACHABLE = frozenset({"UNAVAILABLE", "INVALID", "UNKNOWN"})
# Device states that mean the phone is busy with something.
BUSY = frozenset({"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"})


class CallStatus(StrEnum):
    WAITING = "waiting"
    RINGING = "ringing"
    DIALING = "dialing"  # a callback: the agent answered, the customer's phone rings
    TALKING = "talking"


@dataclass(slots=True)
class Call:
    record: CallRecord
    channel: str
    key: QueueKey
    status: CallStatus = CallStatus.WAITING
    agent: str | None = None
    # Expansion steps of its current queue already applied, and the tier that gives.
    stage: int = 0
    tier: int = 0
    # Queues the call has been in; a rule never moves it back into one (no overflow loops).
    visited: list[str] = field(default_factory=list)
    # In its queue's waiting line and tier group right now.
    indexed: bool = False
    # Tokens of the live timers; a timer carrying an older token is stale.
    check_token: int = 0
    announce_token: int = 0
    # "inbound", "virtual-hold" (caller hung up to be called back, keeps its place), or a
    # scheduled kind (SCHEDULED_KINDS) fed by the dialer; `number` is what a callback dials.
    kind: str = "inbound"
    number: str = ""
    callback_id: int | None = None
    attempt: int = 0  # dials made before this one
    not_after: float | None = None  # business hours end: a scheduled callback is not dialled later
    # What the facts report (see acd.core.facts): the queue asked for on arrival, when the
    # call reached its current queue, its place when it joined that queue's line, whether it
    # is counted there as app_queue counts callers (`QueueState.present`), and when the
    # agent's phone started ringing.
    requested: str = ""
    queued_at: float = 0.0
    origposition: int = 0
    present: bool = False
    ring_started: float | None = None

    @property
    def callback(self) -> bool:
        """Reached by dialling out: no caller channel holds in Asterisk."""
        return self.kind != "inbound"

    @property
    def scheduled(self) -> bool:
        """Fed by the dialer from the records (after hours, revisit, a retry): dialled only
        when an agent is free with nobody waiting, and counted against the callback cap. A
        virtual-hold caller still in line is not: it keeps its own place."""
        return self.callback_id is not None


@dataclass(slots=True)
class Agent:
    number: str
    skills: dict[str, int]
    role: str
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float | None = None  # None until the core first sees the agent change
    idle_since: float = 0.0
    device: str = "UNKNOWN"
    call_id: str | None = None
    timer: int = 0  # token of the live timer; older timers are stale
    calls_taken: int = 0
    # A supervisor put on the queues by hand (`TakeCalls`) or by a rule (call-in-supervisors);
    # kept apart so a rule clearing does not undo what the team lead did.
    takes_calls: bool = False
    called_in: bool = False
    # Queues a supervisor moved the agent to (`SetQueues`); None: where the skills fit.
    only_queues: frozenset[str] | None = None
    # The queues last reported as served (AgentStateChanged / AgentQueuesChanged).
    served: tuple[str, ...] = ()
    # For least-occupied: time on-call and in wrap-up since the last login.
    login_at: float = 0.0
    busy_seconds: float = 0.0
    # The call in wrap-up, for the queue's handle time: (queue, talk seconds).
    wrapping: tuple[str, float] | None = None
    # Where the agent fits, from config: (queue, entry tier, score in it).
    bands: list[tuple[str, int, int]] = field(default_factory=list)
    # Where it sits in the indexes now (only while available), and whether it is counted
    # among its queues' staff (logged in and taking queue calls).
    indexed: list[tuple[AgentBand, AgentKey]] = field(default_factory=list)
    in_index: bool = False
    counted: bool = False

    @property
    def on_queues(self) -> bool:
        """Role "agent", or a supervisor who was put on the queues."""
        return self.role == "agent" or self.takes_calls or self.called_in

    def serves(self) -> tuple[str, ...]:
        """The queues the agent is a member of now, in config order: where its skills (or a
        supervisor's move) fit, and none for a supervisor who is off the queues."""
        return tuple(queue for queue, _tier, _score in self.bands) if self.on_queues else ()

    def available(self) -> bool:
        return (
            self.state is AgentState.READY
            and self.device not in UNREACHABLE
            and self.device not in BUSY
            and self.on_queues
        )

    def occupancy(self, now: float) -> float:
        """Share of the time since login spent on calls and in wrap-up."""
        logged_in = now - self.login_at
        return self.busy_seconds / logged_in if logged_in > 0 else 0.0


class QueueState:
    """A queue's config and plan with its indexes: agents by tier, waiting calls by tier."""

    __slots__ = (
        "bands",
        "capable",
        "config",
        "groups",
        "handle_time",
        "line",
        "plan",
        "present",
        "rr_last",
    )

    def __init__(self, config: QueueConfig, handle_time: HandleTime) -> None:
        self.config = config
        self.plan: QueuePlan = plan_queue(config)
        round_robin = config.strategy == "round-robin"
        # bands[t]: available agents whose entry tier is t.
        self.bands = [AgentBand(round_robin) for _ in self.plan.tiers]
        # groups[t]: waiting calls whose current tier is t.
        self.groups: list[Ordered[CallEntry]] = [Ordered() for _ in self.plan.tiers]
        self.line = WaitingLine()
        # Callers in the queue as app_queue counts them (queue_log positions): inbound callers
        # holding a channel, waiting or being offered, from joining until answered or gone.
        self.present: Ordered[CallEntry] = Ordered()
        # Logged-in agents on the queues who fit some tier: the queue's staff.
        self.capable = 0
        self.rr_last: str | None = None
        self.handle_time = handle_time

    @property
    def name(self) -> str:
        return self.config.name
