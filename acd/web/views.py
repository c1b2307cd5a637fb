"""What the pages show, computed from the core's snapshot, its read API and its decisions.

Pure: values in, plain dicts out (JSON for the pages), so the rules of the wallboard - what
counts as answered today, what the service level is - are tested without a browser. The
counters and the screen pops are projections of the core's decisions (`match` over the facts
and effects it emits): they never hold or read the core's live objects, and never work out
again what the core already said (which queue a call was answered in, why an offer ended).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from acd.config.models import Config
from acd.config.queues import QueueConfig
from acd.core.decisions import Decision, Offer
from acd.core.facts import CallConnected, CallEnded, CallLeft, CustomerDialled, OfferEnded
from acd.core.vocab import LeaveReason
from acd.privacy import mask_number
from agents.commands import choosable_reasons

#: The seeds answer within 3 rings (about 5 s each); used when a queue does not say.
DEFAULT_SERVICE_LEVEL_SECONDS = 15.0
#: Calls an agent may still write a case note for after the next one is offered.
NOTE_CALLS_KEPT = 20


def service_level_seconds(queue: QueueConfig) -> float:
    return float(getattr(queue, "service_level_seconds", DEFAULT_SERVICE_LEVEL_SECONDS))


@dataclass
class QueueToday:
    answered: int = 0
    in_service_level: int = 0  # answered within the queue's service level threshold
    abandoned: int = 0  # the caller hung up before an agent answered
    lost: int = 0  # sent away unanswered: max wait, full queue, no agents, failed callback

    @property
    def offered(self) -> int:
        return self.answered + self.abandoned + self.lost

    def service_level(self) -> float | None:
        """Answered within the threshold, as a share of every call that has an outcome."""
        return None if self.offered == 0 else self.in_service_level / self.offered


class TodayCounters:
    """Answered / abandoned / service level per queue since local midnight in the centre's
    time zone, counted once per call from the core's facts: answered in the queue it was
    connected in (`CallConnected`), abandoned or lost in the queue it left (`CallLeft`), lost
    when a callback ended without the customer (`CallEnded` never answered).

    In memory only: an engine restart starts the day's counts again (reports read the
    records for exact figures).
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.zone = ZoneInfo(config.centre.timezone)
        self.day: date | None = None
        self.queues: dict[str, QueueToday] = {}
        self._counted: set[str] = set()

    def _roll(self, now: float) -> None:
        day = datetime.fromtimestamp(now, self.zone).date()
        if day != self.day:
            self.day = day
            self.queues = {}
            self._counted = set()

    def get(self, queue: str, now: float) -> QueueToday:
        self._roll(now)
        return self.queues.get(queue) or QueueToday()

    def observe(self, decisions: Iterable[Decision], now: float) -> None:
        self._roll(now)
        for decision in decisions:
            match decision:
                case CallConnected(call_id=call_id, queue=queue):
                    if self._first(call_id):
                        counts = self.queues.setdefault(queue, QueueToday())
                        counts.answered += 1
                        if decision.hold_seconds <= self._threshold(queue):
                            counts.in_service_level += 1
                case CallLeft(reason=LeaveReason.VIRTUAL_HOLD):
                    pass  # off the line by a key, the call keeps its place: not an outcome
                case CallLeft(call_id=call_id, queue=queue, reason=reason):
                    if self._first(call_id):
                        counts = self.queues.setdefault(queue, QueueToday())
                        if reason is LeaveReason.ABANDONED:
                            counts.abandoned += 1
                        else:
                            counts.lost += 1
                case CallEnded(call_id=call_id, queue=queue, answered_at=None):
                    if self._first(call_id):
                        self.queues.setdefault(queue, QueueToday()).lost += 1

    def _first(self, call_id: str) -> bool:
        """True the first time a call has an outcome today: each call counts once."""
        if call_id in self._counted:
            return False
        self._counted.add(call_id)
        return True

    def _threshold(self, queue: str) -> float:
        try:
            return service_level_seconds(self.config.queue(queue))
        except KeyError:
            return DEFAULT_SERVICE_LEVEL_SECONDS


class PopStatus(StrEnum):
    RINGING = "ringing"
    TALKING = "talking"
    ENDED = "ended"


@dataclass
class ScreenPop:
    """The call offered to an agent, as their screen shows it while it rings and after."""

    call_id: str
    caller: str
    queue: str
    entered_at: float
    offered_at: float
    status: PopStatus = PopStatus.RINGING
    answered_at: float | None = None
    ended_at: float | None = None

    def view(self) -> dict[str, Any]:
        out = asdict(self)
        out["waited_seconds"] = round((self.answered_at or self.offered_at) - self.entered_at, 1)
        return out


@dataclass
class ScreenPops:
    """Per agent: the call being offered or handled (the seeds' screen pop), from the Offer
    and what the core says of it after (the offer ended, the call connected, it ended), and
    the calls they may still write case notes for."""

    current: dict[str, ScreenPop] = field(default_factory=dict)
    recent: dict[str, deque[tuple[str, str]]] = field(default_factory=dict)  # (call, caller)

    def observe(self, decisions: Iterable[Decision], now: float) -> None:
        for decision in decisions:
            match decision:
                case Offer():
                    self._offered(decision, now)
                case OfferEnded(agent=agent, call_id=call_id):
                    self._withdraw(agent, call_id)
                case (
                    CustomerDialled(agent=agent, call_id=call_id, at=at)
                    | CallConnected(agent=agent, call_id=call_id, at=at)
                ):
                    pop = self._pop(agent, call_id)
                    if pop is not None and pop.status is PopStatus.RINGING:
                        pop.status, pop.answered_at = PopStatus.TALKING, at
                case CallEnded(agent=str(agent), call_id=call_id, at=at):
                    pop = self._pop(agent, call_id)
                    if pop is not None:
                        pop.status, pop.ended_at = PopStatus.ENDED, at

    def _offered(self, offer: Offer, now: float) -> None:
        self.current[offer.agent] = ScreenPop(
            offer.call_id, offer.caller, offer.queue, offer.entered_at, now
        )
        kept = self.recent.setdefault(offer.agent, deque(maxlen=NOTE_CALLS_KEPT))
        if (offer.call_id, offer.caller) not in kept:
            kept.append((offer.call_id, offer.caller))

    def _pop(self, agent: str, call_id: str) -> ScreenPop | None:
        pop = self.current.get(agent)
        return pop if pop is not None and pop.call_id == call_id else None

    def _withdraw(self, agent: str, call_id: str) -> None:
        """An offer that went nowhere: the call is someone else's now, no note for it here."""
        pop = self.current.get(agent)
        if pop is not None and pop.call_id == call_id and pop.status is PopStatus.RINGING:
            del self.current[agent]
            kept = self.recent.get(agent)
            if kept is not None and (call_id, pop.caller) in kept:
                kept.remove((call_id, pop.caller))

    def caller_of(self, agent: str, call_id: str) -> str | None:
        """The caller's number if `call_id` was offered to `agent` lately, else None: an
        agent sees the details and writes notes only for their own calls."""
        for known, caller in self.recent.get(agent, ()):
            if known == call_id:
                return caller
        return None


def wallboard_view(
    snapshot: Mapping[str, Any],
    today: TodayCounters,
    pops: ScreenPops,
    config: Config,
    reviews: list[dict[str, Any]],
    now: float,
    served: Mapping[str, tuple[str, ...]],
) -> dict[str, Any]:
    """Queues, agents, active rules and overdue reviews, as the wallboard draws them.

    `served` is the core's answer to "which queues does this agent serve now" (its read
    API), moves and supervisors off the queues included."""
    queues = []
    for queue in snapshot.get("queues", []):
        counts = today.get(queue["name"], now)
        waits = [call["wait_seconds"] for call in queue["waiting"]]
        try:
            spec: QueueConfig | None = config.queue(queue["name"])
        except KeyError:
            spec = None
        level = counts.service_level()
        queues.append(
            {
                "name": queue["name"],
                "description": spec.description if spec is not None else "",
                "waiting": len(waits),
                "longest_wait": max(waits, default=0.0),
                "ringing": len(queue["ringing"]),
                "talking": queue["talking"],
                "staff": queue["staff"],
                "answered": counts.answered,
                "abandoned": counts.abandoned,
                "lost": counts.lost,
                "service_level": None if level is None else round(level * 100, 1),
                "service_level_seconds": service_level_seconds(spec)
                if spec is not None
                else DEFAULT_SERVICE_LEVEL_SECONDS,
            }
        )
    agents = []
    for agent in snapshot.get("agents", []):
        spec_a = config.agent(agent["number"])
        pop = pops.current.get(agent["number"])
        live = pop is not None and pop.status is not PopStatus.ENDED
        agents.append(
            {
                **agent,
                "name": spec_a.name if spec_a is not None else "",
                "trainee": spec_a.trainee if spec_a is not None else False,
                "queues": list(served.get(agent["number"], ())),
                "caller": mask_number(pop.caller) if live and pop is not None else None,
                "call_queue": pop.queue if live and pop is not None else None,
            }
        )
    overdue = [
        {k: r.get(k) for k in ("id", "call_id", "agent", "reason", "due_at")}
        for r in reviews
        if r.get("overdue")
    ]
    rules = snapshot.get("rules")
    # The core's view: {"active": [...], "pending": [...], "effects": {...}}.
    active = list(rules.get("active", [])) if isinstance(rules, dict) else list(rules or [])
    return {
        "kind": "wallboard",
        "centre": config.centre.name,
        "now": now,
        "queues": queues,
        "agents": agents,
        "rules": active,
        "rule_effects": rules.get("effects") if isinstance(rules, dict) else None,
        "reviews": overdue,
        "pause_reasons": choosable_reasons(config),
        "queue_names": [queue.name for queue in config.queues],
    }


def agent_view(
    snapshot: Mapping[str, Any],
    number: str,
    pops: ScreenPops,
    config: Config,
    now: float,
    served: Mapping[str, tuple[str, ...]],
) -> dict[str, Any]:
    """One agent's own state and screen pop, as their page draws it."""
    spec = config.agent(number)
    state = next((a for a in snapshot.get("agents", []) if a["number"] == number), None)
    pop = pops.current.get(number)
    return {
        "kind": "agent",
        "now": now,
        "agent": None
        if state is None
        else {
            **state,
            "name": spec.name if spec else "",
            "queues": list(served.get(number, ())),
        },
        "pause_reasons": choosable_reasons(config),
        "pop": None if pop is None else pop.view(),
    }
