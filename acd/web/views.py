"""What the pages show, computed from the core's snapshot and the observer stream.

Pure: values in, plain dicts out (JSON for the pages), so the rules of the wallboard - what
counts as answered today, what the service level is - are tested without a browser.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from acd.config.models import AgentConfig, Config
from acd.config.queues import QueueConfig
from acd.core import events as ev
from acd.core.decisions import CallRecord, CancelOffer, Decision, Offer
from acd.core.entities import Call
from acd.privacy import mask_number

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
    time zone, counted once per call from the call records the core emits.

    In memory only: an engine restart starts the day's counts again (reports read the
    records for exact figures).
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.zone = ZoneInfo(config.centre.timezone)
        self.day: date | None = None
        self.queues: dict[str, QueueToday] = {}
        self._answered: set[str] = set()
        self._ended: set[str] = set()

    def _roll(self, now: float) -> None:
        day = datetime.fromtimestamp(now, self.zone).date()
        if day != self.day:
            self.day = day
            self.queues = {}
            self._answered = set()
            self._ended = set()

    def get(self, queue: str, now: float) -> QueueToday:
        self._roll(now)
        return self.queues.get(queue) or QueueToday()

    def observe(self, decisions: Iterable[Decision], now: float) -> None:
        self._roll(now)
        for record in decisions:
            if isinstance(record, CallRecord):
                self._count(record)

    def _count(self, record: CallRecord) -> None:
        counts = self.queues.setdefault(record.queue, QueueToday())
        if record.answered_at is not None:
            if record.call_id not in self._answered:
                self._answered.add(record.call_id)
                counts.answered += 1
                threshold = self._threshold(record.queue)
                if record.answered_at - record.entered_at <= threshold:
                    counts.in_service_level += 1
        elif record.ended_at is not None and record.call_id not in self._ended:
            self._ended.add(record.call_id)
            if record.disposition == "abandoned":
                counts.abandoned += 1
            else:
                counts.lost += 1

    def _threshold(self, queue: str) -> float:
        try:
            return service_level_seconds(self.config.queue(queue))
        except KeyError:
            return DEFAULT_SERVICE_LEVEL_SECONDS


@dataclass
class ScreenPop:
    """The call offered to an agent, as their screen shows it while it rings and after."""

    call_id: str
    caller: str
    queue: str
    entered_at: float
    offered_at: float
    status: str = "ringing"  # ringing, talking, ended
    answered_at: float | None = None
    ended_at: float | None = None

    def view(self) -> dict[str, Any]:
        out = asdict(self)
        out["waited_seconds"] = round((self.answered_at or self.offered_at) - self.entered_at, 1)
        return out


@dataclass
class ScreenPops:
    """Per agent: the call being offered or handled (the seeds' screen pop), from Offer
    decisions, and the calls they may still write case notes for."""

    current: dict[str, ScreenPop] = field(default_factory=dict)
    recent: dict[str, deque[tuple[str, str]]] = field(default_factory=dict)  # (call, caller)

    def observe(
        self, event: ev.Event, decisions: Iterable[Decision], now: float, calls: Mapping[str, Call]
    ) -> None:
        if isinstance(event, ev.OfferFailed):
            self._withdraw(event.agent, event.call_id)
        elif isinstance(event, ev.OfferAnswered):
            pop = self.current.get(event.agent)
            if pop is not None and pop.call_id == event.call_id:
                pop.status, pop.answered_at = "talking", now
        for decision in decisions:
            if isinstance(decision, Offer):
                call = calls.get(decision.call_id)
                entered = call.record.entered_at if call is not None else now
                self.current[decision.agent] = ScreenPop(
                    decision.call_id, decision.caller, decision.queue, entered, now
                )
                kept = self.recent.setdefault(decision.agent, deque(maxlen=NOTE_CALLS_KEPT))
                if (decision.call_id, decision.caller) not in kept:
                    kept.append((decision.call_id, decision.caller))
            elif isinstance(decision, CancelOffer):
                self._withdraw(decision.agent, decision.call_id)
            elif isinstance(decision, CallRecord) and decision.agent is not None:
                pop = self.current.get(decision.agent)
                if pop is None or pop.call_id != decision.call_id:
                    continue
                if decision.answered_at is not None and pop.status == "ringing":
                    pop.status, pop.answered_at = "talking", decision.answered_at
                if decision.ended_at is not None:
                    pop.status, pop.ended_at = "ended", decision.ended_at

    def _withdraw(self, agent: str, call_id: str) -> None:
        """An offer that went nowhere: the call is someone else's now, no note for it here."""
        pop = self.current.get(agent)
        if pop is not None and pop.call_id == call_id and pop.status == "ringing":
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


def agent_queues(spec: AgentConfig | None, config: Config) -> list[str]:
    """Queues whose skills the agent holds at the queue's minimum levels."""
    if spec is None:
        return []
    return [
        queue.name
        for queue in config.queues
        if all(spec.skills.get(skill, 0) >= level for skill, level in queue.skills.items())
    ]


def wallboard_view(
    snapshot: Mapping[str, Any],
    today: TodayCounters,
    pops: ScreenPops,
    config: Config,
    reviews: list[dict[str, Any]],
    now: float,
) -> dict[str, Any]:
    """Queues, agents, active rules and overdue reviews, as the wallboard draws them."""
    specs = {a.number: a for a in config.agents}
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
        spec_a = specs.get(agent["number"])
        pop = pops.current.get(agent["number"])
        live = pop is not None and pop.status in ("ringing", "talking")
        agents.append(
            {
                **agent,
                "name": spec_a.name if spec_a is not None else "",
                "trainee": spec_a.trainee if spec_a is not None else False,
                "queues": agent.get("moved_to") or agent_queues(spec_a, config),
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
        "pause_reasons": sorted(set(config.centre.pause_reasons.values())),
        "queue_names": [queue.name for queue in config.queues],
    }


def agent_view(
    snapshot: Mapping[str, Any], number: str, pops: ScreenPops, config: Config, now: float
) -> dict[str, Any]:
    """One agent's own state and screen pop, as their page draws it."""
    spec = next((a for a in config.agents if a.number == number), None)
    state = next((a for a in snapshot.get("agents", []) if a["number"] == number), None)
    pop = pops.current.get(number)
    return {
        "kind": "agent",
        "now": now,
        "agent": None
        if state is None
        else {**state, "name": spec.name if spec else "", "queues": agent_queues(spec, config)},
        "pause_reasons": list(dict.fromkeys(config.centre.pause_reasons.values())),
        "pop": None if pop is None else pop.view(),
    }
