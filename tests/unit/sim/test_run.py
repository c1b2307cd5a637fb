"""The event loop on scenarios small enough to work out by hand.

Callers arrive at given times (`Replay`), talk for fixed times, and the core decides as it
would live; the figures must come out exactly as the timeline says.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from acd.config.models import Config
from acd.sim.model import Distribution, Model, Replay, Traffic
from acd.sim.run import Replication, run_once, simulate
from acd.sim.scenario import one_queue_config, with_queue


def no_clock() -> float:
    return 0.0


def run(
    times: tuple[float, ...],
    agents: int = 1,
    talk: float = 60.0,
    wrapup: float = 0.0,
    config: Config | None = None,
    **model: Any,
) -> Replication:
    model.setdefault("duration_seconds", 200.0)
    model.setdefault("warmup_seconds", 0.0)
    scenario = Model(traffic=Replay(times), talk=Distribution(talk, "fixed"), **model)
    config = config or one_queue_config(agents, wrapup)
    return run_once(config, "general", scenario, seed=1, timer=no_clock)


def test_one_agent_two_callers_the_second_waits_for_the_first_call_to_end() -> None:
    # 0: caller 1 answered at once; 10: caller 2 waits; 60: caller 1 done, caller 2 answered.
    result = run((0.0, 10.0))
    assert (result.offered, result.answered, result.abandoned) == (2, 2, 0)
    assert result.wait_sum == 50.0  # waits 0 and 50
    assert result.asa == 25.0
    assert result.answered_within == 1  # within 20 s: only the first
    assert result.service_level == 0.5
    assert result.waited == 1
    assert result.wait_probability == 0.5
    assert result.busy_seconds == 120.0  # 0-120 on calls, of 200 s measured
    assert result.occupancy == 0.6


def test_two_agents_nobody_waits() -> None:
    result = run((0.0, 10.0), agents=2)
    assert (result.answered, result.wait_sum, result.waited) == (2, 0.0, 0)
    assert result.occupancy == 120.0 / 400.0


def test_wrap_up_keeps_the_agent_busy_until_the_core_times_it_out() -> None:
    # Talk 50 + wrap-up 10: the agent is free at 60, by the core's own wrap-up timer, which
    # only fires if the loop feeds it a tick then.
    result = run((0.0, 10.0), talk=50.0, wrapup=10.0)
    assert result.answered == 2
    assert result.wait_sum == 50.0
    assert result.busy_seconds == 120.0


def test_ring_delay_counts_in_the_wait_and_keeps_the_agent_busy() -> None:
    # Rings 0-5, talks 5-65; caller 2 rings 65-70 and talks 70-130.
    result = run((0.0, 10.0), ring_seconds=5.0)
    assert result.wait_sum == 5.0 + 60.0
    assert result.answered_within == 1
    assert result.waited == 1
    assert result.busy_seconds == 130.0


def test_a_caller_whose_patience_runs_out_while_waiting_abandons() -> None:
    patience = Distribution(30.0, "fixed")
    result = run((0.0, 10.0), patience=patience)
    assert (result.answered, result.abandoned) == (1, 1)  # caller 2 leaves at 40
    assert result.service_level == 0.5  # an abandoned caller counts against it
    assert result.abandon_rate == 0.5
    assert result.busy_seconds == 60.0


def test_patience_no_longer_matters_once_the_agent_answered() -> None:
    result = run((0.0,), patience=Distribution(5.0, "fixed"))
    assert (result.answered, result.abandoned) == (1, 0)
    assert result.busy_seconds == 60.0  # the whole call, not cut at 5 s


def test_a_caller_who_hangs_up_while_the_agent_rings_is_abandoned() -> None:
    result = run((0.0,), patience=Distribution(5.0, "fixed"), ring_seconds=10.0)
    assert (result.answered, result.abandoned) == (0, 1)
    assert result.busy_seconds == 5.0  # reserved from 0 until the caller left


def test_an_agent_who_never_answers_is_paused_and_the_call_offered_again() -> None:
    # Ring 20 s > the queue's 15 s ring timeout: offers fail at 15 and 90; the agent is
    # paused after each (pause_on_no_answer) and back 60 s later; the caller leaves at 100.
    result = run((0.0,), patience=Distribution(100.0, "fixed"), ring_seconds=20.0)
    assert (result.answered, result.abandoned) == (0, 1)
    assert result.busy_seconds == 30.0  # ringing 0-15 and 75-90


def test_the_configs_rules_apply_max_wait_sends_the_caller_away() -> None:
    config = with_queue(one_queue_config(1), "general", max_wait_seconds=30.0)
    result = run((0.0, 10.0), config=config)
    assert (result.answered, result.abandoned, result.turned_away) == (1, 0, 1)


def test_only_callers_arriving_after_the_warm_up_are_counted() -> None:
    result = run((50.0, 150.0), warmup_seconds=100.0)
    assert (result.offered, result.answered) == (1, 1)
    assert result.agent_seconds == 200.0
    assert result.busy_seconds == 70.0  # 100-110 of caller 1's call, and caller 2's 150-210


def test_a_caller_arriving_near_the_end_is_followed_to_the_end_of_the_call() -> None:
    result = run((90.0,), duration_seconds=100.0)
    assert (result.offered, result.answered) == (1, 1)
    assert result.busy_seconds == 10.0  # the measured window ends at 100


def test_callers_nobody_can_take_are_left_over_when_the_drain_time_is_up() -> None:
    result = run((0.0,), agents=0, drain_seconds=100.0)
    assert (result.offered, result.answered, result.unfinished, result.waited) == (1, 0, 1, 1)
    assert result.agent_seconds == 0.0


def poisson(agents: int = 14, seed: int = 3, replications: int = 2) -> list[Replication]:
    model = Model(
        traffic=Traffic((100,), 1800),
        talk=Distribution(180),
        duration_seconds=3600,
        patience=Distribution(60),
    )
    summary = simulate(one_queue_config(agents), "general", model, replications, seed, no_clock)
    return summary.replications


def test_the_same_seed_gives_the_same_results() -> None:
    assert poisson(seed=3) == poisson(seed=3)


def test_another_seed_gives_other_results() -> None:
    assert poisson(seed=3) != poisson(seed=4)


def test_replications_are_not_copies_of_each_other() -> None:
    first, second = poisson(replications=2)
    assert replace(first, wall_seconds=0.0) != replace(second, wall_seconds=0.0)


def test_the_same_seed_brings_the_same_callers_whatever_the_staffing() -> None:
    """Common random numbers: a what-if on staffing sees the same day, not another one."""
    fewer, more = poisson(agents=12), poisson(agents=16)
    assert [r.simulated_calls for r in fewer] == [r.simulated_calls for r in more]
    assert [r.offered for r in fewer] == [r.offered for r in more]
    assert [r.wait_sum for r in fewer] != [r.wait_sum for r in more]
    assert all(f.abandoned >= m.abandoned for f, m in zip(fewer, more, strict=True))


def test_an_unknown_queue_is_an_error_before_anything_runs() -> None:
    model = Model(traffic=Replay((0.0,)), talk=Distribution(60), duration_seconds=60)
    with pytest.raises(KeyError):
        run_once(one_queue_config(1), "nowhere", model, seed=1)
