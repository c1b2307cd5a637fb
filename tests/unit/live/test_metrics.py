"""The metrics a scrape shows after a scripted stretch of the centre's day."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import pytest

from acd.core import events as ev
from acd.core.decisions import RuleChanged
from acd.live import metrics as live_metrics
from acd.live.metrics import EngineMetrics, metrics_app, render_metrics
from tests.unit.live.conftest import Centre


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` in an exposition; fails when it is not there."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, number = line.rpartition(" ")
        metric, _, raw = sample.partition("{")
        got = ",".join(sorted(re.findall(r'\w+="[^"]*"', raw)))
        if metric == name and got == wanted:
            return float(number)
    raise AssertionError(f"no {name}{{{wanted}}} in the exposition")


def scripted_day(centre: Centre, metrics: EngineMetrics) -> None:
    """Two agents log in; one call is answered and ended, one abandoned, one waits."""
    start = len(centre.steps)
    centre.ready("1001", "1002")
    centre.call("c1")
    centre.call("c2")
    centre.send(ev.OfferAnswered("c1", "1001"))
    centre.clock.advance(5)
    centre.send(ev.CallerHungUp("c2"))  # 1002 was ringing for it
    centre.send(ev.AgentPause("1002", "lunch"))
    centre.call("c3")
    centre.clock.advance(60)
    centre.send(ev.AgentLegHungUp("c1", "1001"))  # 1001 goes to wrap-up; c3 waits
    for event, decisions, now in centre.steps[start:]:
        metrics.observe(event, decisions, now)


def test_a_scrape_shows_calls_by_outcome_waiting_callers_and_agents_by_state(
    centre: Centre,
) -> None:
    reconnects = [0]
    metrics = EngineMetrics(centre.core, ami_reconnects=lambda: reconnects[0])
    scripted_day(centre, metrics)
    reconnects[0] = 2
    text = metrics.render().decode()
    assert value(text, "acd_calls_total", queue="general", outcome="answered") == 1
    assert value(text, "acd_calls_total", queue="general", outcome="abandoned") == 1
    assert value(text, "acd_calls_waiting", queue="general") == 1
    assert value(text, "acd_calls_waiting", queue="jobs") == 0
    assert value(text, "acd_agents", state="wrap-up") == 1
    assert value(text, "acd_agents", state="not-ready") == 1
    assert value(text, "acd_agents", state="ready") == 0
    logged_out = sum(1 for a in centre.core.agents.values() if a.state.value == "logged-out")
    assert value(text, "acd_agents", state="logged-out") == logged_out
    assert value(text, "acd_ami_reconnects_total") == 2


def test_agent_gauges_follow_the_core_when_agents_are_added(centre: Centre) -> None:
    metrics = EngineMetrics(centre.core)
    total = len(centre.core.agents)
    assert value(metrics.render().decode(), "acd_agents", state="logged-out") == total
    config = centre.core.config
    extra = config.agents[0].model_copy(update={"number": "1099"})
    centre.core.reconfigure(config.model_copy(update={"agents": [*config.agents, extra]}))
    centre.send(ev.Tick())
    metrics.observe(*centre.steps[-1])
    assert value(metrics.render().decode(), "acd_agents", state="logged-out") == total + 1


def test_rules_show_as_fired_then_cleared(centre: Centre) -> None:
    metrics = EngineMetrics(centre.core)
    fired = RuleChanged("peak-16", "fired", "*", (("waiting", 16.0),), ("call-in",), 0.0)
    metrics.observe(ev.Tick(), [fired], 0.0)
    assert value(metrics.render().decode(), "acd_rule_fired", rule="peak-16") == 1
    cleared = RuleChanged("peak-16", "cleared", "*", (("waiting", 4.0),), ("call-in",), 9.0)
    metrics.observe(ev.Tick(), [cleared], 9.0)
    assert value(metrics.render().decode(), "acd_rule_fired", rule="peak-16") == 0


def test_decision_latency_is_a_histogram(centre: Centre) -> None:
    metrics = EngineMetrics(centre.core)
    for seconds in (0.00002, 0.00002, 0.003):
        metrics.decision_seconds.observe(seconds)
    text = metrics.render().decode()
    assert value(text, "acd_decision_seconds_count") == 3
    assert value(text, "acd_decision_seconds_bucket", le="5e-05") == 2
    assert value(text, "acd_decision_seconds_bucket", le="0.005") == 3


async def test_loop_lag_is_how_late_the_sleep_woke(centre: Centre) -> None:
    metrics = EngineMetrics(centre.core)
    clock = [100.0]
    overshoots = iter([0.0, 0.03, 0.3])

    async def late_sleep(seconds: float) -> None:
        """Wakes late by the next overshoot; after the last one, stops the watcher."""
        try:
            clock[0] += seconds + next(overshoots)
        except StopIteration:
            raise RuntimeError("done") from None

    with pytest.raises(RuntimeError, match="done"):
        await metrics.watch_loop_lag(0.5, sleep=late_sleep, clock=lambda: clock[0])
    text = metrics.render().decode()
    assert value(text, "acd_event_loop_lag_seconds_count") == 3
    assert value(text, "acd_event_loop_lag_seconds_sum") == pytest.approx(0.33)
    assert value(text, "acd_event_loop_lag_seconds_bucket", le="0.025") == 1
    assert value(text, "acd_event_loop_lag_seconds_bucket", le="0.05") == 2


async def test_the_asgi_app_serves_the_installed_engines_metrics(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_metrics, "_installed", None)
    assert render_metrics() == b""
    metrics = EngineMetrics(centre.core)
    scripted_day(centre, metrics)
    metrics.install()
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await metrics_app({"type": "http", "method": "GET", "path": "/"}, receive, send)
    start, body = sent
    assert start["status"] == 200
    assert dict(start["headers"])[b"content-type"].startswith(b"text/plain; version=0.0.4")
    text = body["body"].decode()
    assert value(text, "acd_calls_total", queue="general", outcome="answered") == 1
    sent.clear()
    await metrics_app({"type": "http", "method": "POST", "path": "/"}, receive, send)
    assert sent[0]["status"] == 405


def test_two_engines_keep_separate_registries(centre: Centre) -> None:
    first, second = EngineMetrics(centre.core), EngineMetrics(centre.core)
    first.calls.labels("general", "answered").inc()
    assert "acd_calls_total{" not in second.render().decode()
