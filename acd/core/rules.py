"""Queue-depth rules: the seeds' peak plan as a pure, clock-driven state machine.

"8 callers waiting, sustained for 30 minutes: stop callbacks and suspend agents' breaks; 16
waiting sustained for 30 minutes: supervisors and all agents take calls." The core calls
`evaluate` only when something happens, yet a rule must fire at exactly the moment its
condition has held for its duration. So the book keeps, for every rule, since when the
condition that would change its state has held, and between two evaluations it replays the
metrics it was last given: they are constant until the next event, except the longest wait,
which grows with time and is replayed exactly (the instants it crosses a threshold are
breakpoints). `next_deadline` tells the core when to evaluate even if nothing happens.

A rule's state changes at most once per stretch of constant metrics: it fires only while
`when` holds and clears only while it does not, so it cannot flap within one stretch.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from acd.config.rules import WINDOWED_METRICS, RuleCondition, RuleConfig
from acd.core.decisions import RuleChanged
from acd.core.metrics import DEFAULT_WINDOW_SECONDS, QueueMetrics

FIRED = "fired"
CLEARED = "cleared"

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class Effects:
    """What the active rules ask of the centre, combined; the core applies the whole of it.

    Flags are on while any active rule asks for them; the callback cap is the lowest of the
    active caps; `causes` names, for each action kind in force, the rules behind it.
    """

    callbacks_suspended: bool = False
    breaks_suspended: bool = False
    supervisors_called_in: bool = False
    callback_agent_cap: int | None = None
    alerts: tuple[str, ...] = ()
    causes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def caused_by(self, kind: str) -> tuple[str, ...]:
        return dict(self.causes).get(kind, ())


@dataclass(frozen=True, slots=True)
class _Check:
    """A condition made ready to test at every event: pydantic attribute reads are slow."""

    metric: str
    op: str
    compare: Callable[[float, float], bool]
    value: float
    window: float
    label: str  # how its value is named in a RuleChanged

    @classmethod
    def of(cls, condition: RuleCondition) -> _Check:
        label: str = condition.metric
        if condition.metric in WINDOWED_METRICS and condition.window != DEFAULT_WINDOW_SECONDS:
            label = f"{condition.metric}_{condition.window:g}s"
        return cls(
            condition.metric,
            condition.op,
            _COMPARE[condition.op],
            condition.value,
            condition.window,
            label,
        )

    def measure(self, metrics: QueueMetrics | None, at: float) -> float | None:
        if metrics is None:
            return None
        match self.metric:
            case "waiting":
                return float(metrics.waiting)
            case "ready_agents":
                return float(metrics.ready_agents)
            case "longest_wait":
                return metrics.longest_wait(at)
        counts = metrics.window(self.window)
        if counts is None:
            return None
        if self.metric == "answered":
            return float(counts.answered)
        if self.metric == "abandoned":
            return float(counts.abandoned)
        return counts.service_level

    def holds(self, metrics: QueueMetrics | None, at: float) -> bool:
        if self.metric == "waiting":  # the common case, first
            return metrics is not None and self.compare(metrics.waiting, self.value)
        if self.metric == "longest_wait" and metrics is not None:
            oldest = metrics.oldest_entered_at
            if oldest is not None:
                # "at op oldest + value" rather than "at - oldest op value": the breakpoints
                # below are then exactly where the answer changes, whatever the rounding.
                return self.compare(at, oldest + self.value)
        value = self.measure(metrics, at)
        return value is not None and self.compare(value, self.value)

    def breakpoints(self, oldest: float) -> tuple[float, ...]:
        """The instants a longest-wait check changes its answer (oldest caller unchanged);
        the answer is constant from one breakpoint up to, not including, the next."""
        crossing = oldest + self.value
        if self.op in (">=", "<"):
            return (crossing,)
        just_after = math.nextafter(crossing, math.inf)
        if self.op in (">", "<="):
            return (just_after,)
        return (crossing, just_after)


@dataclass(frozen=True, slots=True)
class _Rule:
    config: RuleConfig
    name: str
    scope: str
    when: tuple[_Check, ...]
    clear_when: tuple[_Check, ...] | None
    sustained: float
    clear_sustained: float
    actions: tuple[str, ...]
    timed: tuple[_Check, ...]  # longest-wait checks: their answers change between events
    windowed: tuple[float, ...]  # service-level windows read

    @classmethod
    def of(cls, config: RuleConfig) -> _Rule:
        when = tuple(_Check.of(c) for c in config.when)
        clear = (
            None if config.clear_when is None else tuple(_Check.of(c) for c in config.clear_when)
        )
        checks = when + (clear or ())
        return cls(
            config=config,
            name=config.name,
            scope=config.scope,
            when=when,
            clear_when=clear,
            sustained=config.sustained_seconds,
            clear_sustained=config.clear_sustained_seconds,
            actions=tuple(action.kind for action in config.actions),
            timed=tuple(c for c in checks if c.metric == "longest_wait"),
            windowed=tuple(dict.fromkeys(c.window for c in checks if c.metric in WINDOWED_METRICS)),
        )

    def breakpoints(self, metrics: QueueMetrics | None) -> list[float]:
        if not self.timed or metrics is None or metrics.oldest_entered_at is None:
            return []
        oldest = metrics.oldest_entered_at
        return [at for check in self.timed for at in check.breakpoints(oldest)]

    def window_changes(self, metrics: QueueMetrics | None) -> list[float]:
        """When a call leaves a window the rule reads: the counts change with no event."""
        if not self.windowed or metrics is None:
            return []
        found = (metrics.window(seconds) for seconds in self.windowed)
        return [c.changes_at for c in found if c is not None and c.changes_at is not None]


@dataclass(slots=True)
class _State:
    fired_at: float | None = None
    fired_metrics: tuple[tuple[str, float], ...] = ()
    # Since when the condition that would change the state (fire or clear) has held.
    since: float | None = None


class RuleBook:
    """The rules' states; fed metrics by scope ("*" or a queue name) and the time."""

    def __init__(self, rules: Sequence[RuleConfig]) -> None:
        self._rules: dict[str, _Rule] = _by_name(rules)
        self._states: dict[str, _State] = {name: _State() for name in self._rules}
        self._metrics: Mapping[str, QueueMetrics] = {}
        self._now: float | None = None

    def evaluate(self, metrics: Mapping[str, QueueMetrics], now: float) -> list[RuleChanged]:
        """Metrics as they are from `now` on; returns the rules that fired or cleared since
        the last evaluation, each at the exact moment it did, in time order."""
        out = self._catch_up(now)
        self._metrics = metrics
        for name, rule in self._rules.items():
            _enter(rule, self._states[name], metrics.get(rule.scope), now, out)
        if len(out) > 1:
            out.sort(key=lambda change: change.at)
        return out

    def next_deadline(self) -> float | None:
        """The next time a rule may change state with no new metrics: a pending rule falling
        due, the longest wait crossing a threshold, or a call leaving a service-level window."""
        now = self._now
        if now is None:
            return None
        soonest: float | None = None
        for name, rule in self._rules.items():
            state = self._states[name]
            times = []
            if state.since is not None:
                times.append(state.since + _sustain(rule, state))
            if rule.timed or rule.windowed:
                metrics = self._metrics.get(rule.scope)
                times += [t for t in rule.breakpoints(metrics) if t > now]
                times += [t for t in rule.window_changes(metrics) if t > now]
            for at in times:
                if soonest is None or at < soonest:
                    soonest = at
        return soonest

    def reconfigure(self, rules: Sequence[RuleConfig], now: float) -> list[RuleChanged]:
        """New rules from a config reload. A rule whose name and definition are unchanged
        keeps its state and clock; an active rule that is removed or changed clears at `now`
        (so its actions are undone and recorded); a new or changed rule starts its clock now,
        on the metrics last given."""
        new_rules = _by_name(rules)
        out = self._catch_up(now)
        old_rules, self._rules = self._rules, new_rules
        for name, old in old_rules.items():
            kept = new_rules.get(name)
            if kept is not None and kept.config == old.config:
                new_rules[name] = old
                continue
            state = self._states.pop(name)
            if state.fired_at is not None:
                out.append(_change(old, CLEARED, self._metrics.get(old.scope), now))
        for name, rule in self._rules.items():
            state = self._states.setdefault(name, _State())
            _enter(rule, state, self._metrics.get(rule.scope), now, out)
        out.sort(key=lambda change: change.at)
        return out

    def service_windows(self) -> tuple[float, ...]:
        """The service-level windows the rules read, for the core to keep counts over."""
        return tuple(dict.fromkeys(w for rule in self._rules.values() for w in rule.windowed))

    def effects(self) -> Effects:
        causes: dict[str, list[str]] = {}
        caps: list[int] = []
        alerts: list[str] = []
        for name, rule in self._rules.items():
            if self._states[name].fired_at is None:
                continue
            for action in rule.config.actions:
                causes.setdefault(action.kind, [])
                if name not in causes[action.kind]:
                    causes[action.kind].append(name)
                if action.value is not None:
                    caps.append(action.value)
                if action.message is not None:
                    alerts.append(action.message)
        return Effects(
            callbacks_suspended="suspend-callbacks" in causes,
            breaks_suspended="suspend-breaks" in causes,
            supervisors_called_in="call-in-supervisors" in causes,
            callback_agent_cap=min(caps, default=None),
            alerts=tuple(alerts),
            causes=tuple((kind, tuple(names)) for kind, names in causes.items()),
        )

    def active(self) -> list[dict[str, Any]]:
        """Fired rules, for `acd status`: since when, what they saw, what they do."""
        return [
            {
                "rule": name,
                "description": rule.config.description,
                "scope": rule.scope,
                "since": state.fired_at,
                "metrics": dict(state.fired_metrics),
                "actions": list(rule.actions),
                # Set while the clear condition holds: it clears at clearing_since + duration.
                "clearing_since": state.since,
            }
            for name, rule in self._rules.items()
            if (state := self._states[name]).fired_at is not None
        ]

    def pending(self) -> list[dict[str, Any]]:
        """Rules whose condition holds but not yet for long enough: what the team lead may
        want to see coming."""
        return [
            {
                "rule": name,
                "scope": rule.scope,
                "holding_since": state.since,
                "fires_at": state.since + rule.sustained,
            }
            for name, rule in self._rules.items()
            if (state := self._states[name]).fired_at is None and state.since is not None
        ]

    def _catch_up(self, now: float) -> list[RuleChanged]:
        """Replay the last metrics from the last evaluation up to (not including) `now`."""
        out: list[RuleChanged] = []
        last = self._now
        if last is not None and now < last:
            raise ValueError(f"time does not run backwards ({now} < {last})")
        self._now = now
        if last is None:
            return out
        for name, rule in self._rules.items():
            state = self._states[name]
            metrics = self._metrics.get(rule.scope)
            if rule.timed:
                for at in sorted(t for t in rule.breakpoints(metrics) if last < t < now):
                    _fall_due(rule, state, metrics, at, out)
                    _enter(rule, state, metrics, at, out)
            _fall_due(rule, state, metrics, now, out)
        return out


# -- one rule's state machine -------------------------------------------------------------


def _fall_due(
    rule: _Rule, state: _State, metrics: QueueMetrics | None, until: float, out: list[RuleChanged]
) -> None:
    """The condition held from `since` up to `until`: change state if it held long enough."""
    if state.since is None:
        return
    due = state.since + _sustain(rule, state)
    if due <= until:
        _flip(rule, state, metrics, due, out)


def _enter(
    rule: _Rule, state: _State, metrics: QueueMetrics | None, at: float, out: list[RuleChanged]
) -> None:
    """Metrics (or the longest wait) changed at `at`: start or stop the rule's clock."""
    if not _wanted(rule, state, metrics, at):
        state.since = None
        return
    if state.since is None:
        state.since = at
    if state.since + _sustain(rule, state) <= at:
        _flip(rule, state, metrics, at, out)


def _wanted(rule: _Rule, state: _State, metrics: QueueMetrics | None, at: float) -> bool:
    """Does the condition that would change the rule's state hold at `at`?"""
    firing = all(check.holds(metrics, at) for check in rule.when)
    if state.fired_at is None:
        return firing
    if firing:
        return False
    return rule.clear_when is None or all(check.holds(metrics, at) for check in rule.clear_when)


def _sustain(rule: _Rule, state: _State) -> float:
    return rule.sustained if state.fired_at is None else rule.clear_sustained


def _flip(
    rule: _Rule, state: _State, metrics: QueueMetrics | None, at: float, out: list[RuleChanged]
) -> None:
    change = _change(rule, CLEARED if state.fired_at is not None else FIRED, metrics, at)
    state.since = None
    if change.state == FIRED:
        state.fired_at, state.fired_metrics = at, change.metrics
    else:
        state.fired_at, state.fired_metrics = None, ()
    out.append(change)


def _change(rule: _Rule, what: str, metrics: QueueMetrics | None, at: float) -> RuleChanged:
    seen: dict[str, float] = {}
    for check in rule.when + (rule.clear_when or ()):
        value = check.measure(metrics, at)
        if value is not None:
            seen.setdefault(check.label, value)
    return RuleChanged(
        rule=rule.name,
        state=what,
        scope=rule.scope,
        metrics=tuple(seen.items()),
        actions=rule.actions,
        at=at,
        alerts=tuple(a.message for a in rule.config.actions if a.message is not None),
    )


def _by_name(rules: Sequence[RuleConfig]) -> dict[str, _Rule]:
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ValueError(f"rule names must be unique: {names}")
    return {rule.name: _Rule.of(rule) for rule in rules}
