"""Prometheus metrics of the running engine, served at /metrics by the web app.

Everything is kept in the engine's own `CollectorRegistry` (not the library's global one), so
several engines in one process, as in tests, never share or clash. Counters and histograms are
fed by the engine (the core-step observer, the consumer's timing, a loop-lag task); figures
other components already count (AMI reconnects, MQTT drops) are read when scraped.

Names: `acd_calls_total{queue,outcome}`, `acd_calls_waiting{queue}`, `acd_agents{state}`,
`acd_rule_fired{rule}`, `acd_ami_reconnects_total`, `acd_mqtt_published_total`,
`acd_mqtt_dropped_total`, `acd_decision_seconds`, `acd_event_loop_lag_seconds`, and the
process's own `process_*`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from acd.core import events as ev
from acd.core.core import Core
from acd.core.decisions import AgentStateChanged, CallRecord, Decision, RuleChanged
from acd.core.vocab import RuleState
from agents.state import AgentState

if TYPE_CHECKING:
    from acd.live.mqtt import MqttPublisher

#: How often the loop-lag task wakes; its overshoot is the lag (the seeds' callers hear
#: nothing wrong until it reaches whole seconds, but routing waits on every bit of it).
LAG_INTERVAL = 0.5
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# One core step takes microseconds (benchmarks/README.md); buckets reach far above to show
# a regression, not just "slow".
DECISION_BUCKETS = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.05,
    0.1,
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _ReadCounters:
    """Counters whose values live elsewhere (the AMI client, the MQTT publisher)."""

    def __init__(self) -> None:
        self.sources: list[tuple[str, str, Callable[[], float]]] = []

    def add(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self.sources.append((name, documentation, read))

    def collect(self) -> Iterable[Metric]:
        for name, documentation, read in self.sources:
            yield CounterMetricFamily(name, documentation, value=read())


class EngineMetrics:
    def __init__(
        self,
        core: Core,
        registry: CollectorRegistry | None = None,
        *,
        ami_reconnects: Callable[[], float] | None = None,
    ) -> None:
        self.core = core
        self.registry = registry or CollectorRegistry()
        reg = self.registry
        self.calls = Counter(
            "acd_calls",
            "Calls that ended, by the queue they were last in and how they ended "
            "(answered, abandoned, timeout, full, empty, callback-failed).",
            ["queue", "outcome"],
            registry=reg,
        )
        self.waiting = Gauge(
            "acd_calls_waiting", "Calls waiting in each queue's line.", ["queue"], registry=reg
        )
        self.agents = Gauge("acd_agents", "Agents in each state.", ["state"], registry=reg)
        self.rules = Gauge(
            "acd_rule_fired", "1 while a peak-load rule is fired, 0 after.", ["rule"], registry=reg
        )
        self.decision_seconds = Histogram(
            "acd_decision_seconds",
            "Time the core took over one event (Core.handle), in seconds.",
            buckets=DECISION_BUCKETS,
            registry=reg,
        )
        self.loop_lag = Histogram(
            "acd_event_loop_lag_seconds",
            f"How late a {LAG_INTERVAL:g}s sleep on the engine's event loop woke, in seconds.",
            buckets=LAG_BUCKETS,
            registry=reg,
        )
        self.read_counters = _ReadCounters()
        reg.register(self.read_counters)
        ProcessCollector(registry=reg)
        if ami_reconnects is not None:
            self.count_from(
                "ami_reconnects",
                "AMI sessions re-established after the first login (link flapping).",
                ami_reconnects,
            )
        self._agent_states: dict[str, str] = {}
        self._recount_agents()
        self.observe_waiting()

    # -- fed by the engine -------------------------------------------------------------
    def count_from(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A counter another component keeps (`acd_` + name + `_total`), read at scrape."""
        self.read_counters.add(f"acd_{name}", documentation, read)

    def watch_publisher(self, publisher: MqttPublisher) -> None:
        self.count_from(
            "mqtt_published", "Messages the MQTT broker acknowledged.", lambda: publisher.published
        )
        self.count_from(
            "mqtt_dropped",
            "Messages dropped, oldest first, while the MQTT queue was full.",
            lambda: publisher.dropped,
        )

    def observe(self, event: ev.Event, decisions: Sequence[Decision], now: float) -> None:
        """The engine observer: calls that ended, agents that changed state, queue lines."""
        for item in decisions:
            match item:
                case CallRecord() if item.ended_at is not None:
                    self.calls.labels(item.queue, item.disposition).inc()
                case AgentStateChanged():
                    self._agent_changed(item)
                case RuleChanged():
                    self.rules.labels(item.rule).set(1 if item.state == RuleState.FIRED else 0)
        if len(self._agent_states) != len(self.core.agent_numbers()):
            self._recount_agents()  # agents added or removed by a reload
        self.observe_waiting()

    def observe_waiting(self) -> None:
        """Per queue, O(queues): the lines know their own length."""
        for name, count in self.core.waiting().items():
            self.waiting.labels(name).set(count)

    def _agent_changed(self, change: AgentStateChanged) -> None:
        old = self._agent_states.get(change.agent, change.old)
        self._agent_states[change.agent] = change.new
        self.agents.labels(old).dec()
        self.agents.labels(change.new).inc()

    def _recount_agents(self) -> None:
        """From the core itself: at start and when the set of agents changed."""
        views = (self.core.agent(number) for number in self.core.agent_numbers())
        self._agent_states = {v.number: v.state.value for v in views if v is not None}
        counts = dict.fromkeys((s.value for s in AgentState), 0)
        for state in self._agent_states.values():
            counts[state] = counts.get(state, 0) + 1
        for state, count in counts.items():
            self.agents.labels(state).set(count)

    async def watch_loop_lag(
        self,
        interval: float = LAG_INTERVAL,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Forever: sleep `interval` and record how much later than asked it woke.

        A blocked loop (a slow callback, a synchronous call in a coroutine) shows up here
        before it shows up as late offers and missed AMI pings.
        """
        while True:
            started = clock()
            await sleep(interval)
            self.loop_lag.observe(max(0.0, clock() - started - interval))

    # -- serving -----------------------------------------------------------------------
    def install(self) -> None:
        """Make these the metrics `render_metrics()` and `metrics_app` serve."""
        global _installed
        _installed = self

    def render(self) -> bytes:
        return generate_latest(self.registry)


_installed: EngineMetrics | None = None


def render_metrics() -> bytes:
    """The running engine's metrics in Prometheus' text format (empty before it starts)."""
    return _installed.render() if _installed is not None else b""


async def metrics_app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI: GET (or HEAD) returns `render_metrics()`; mount it at /metrics."""
    if scope["type"] != "http":
        return
    if scope.get("method", "GET") not in ("GET", "HEAD"):
        await _respond(send, 405, b"method not allowed\n", "text/plain; charset=utf-8")
        return
    head = scope.get("method") == "HEAD"
    await _respond(send, 200, render_metrics(), CONTENT_TYPE_PLAIN_0_0_4, with_body=not head)


async def _respond(
    send: Send, status: int, body: bytes, content_type: str, with_body: bool = True
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body if with_body else b""})
