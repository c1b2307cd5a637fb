"""The timeline translator, driven through the real core the way the engine's observers are.

Each scenario feeds events to `Core` on a manual clock, hands every step's
`(event, decisions, now)` to the translator, and checks the exact Asterisk `queue_log` lines
(app_queue's field order: `epoch|callid|queue|agent|event|data...`) and the call's timeline.
"""

from __future__ import annotations

import itertools

import pytest

from acd.config import Config
from acd.config.queues import QueueExit
from acd.core import events as ev
from acd.records.timeline import member
from tests.unit.records.replay import CALLER, T0, Replay
from tests.unit.site import agent, centre_config, configured, queue


@pytest.fixture(scope="module")
def config() -> Config:
    """The core tests' centre, built in code: each test narrows it to the queues and agents
    its queue_log lines are about."""
    return centre_config()


@pytest.fixture
def one_queue(config: Config) -> Config:
    """One queue that rings agents 15 s (the seeds' three rings), two agents who fit it."""
    return configured(
        config,
        queues=[queue("general", ring_timeout=15, wrapup_seconds=10)],
        agents=[agent("1001", housekeeping=5), agent("1002", housekeeping=3)],
    )


def _answered_after_no_answer(replay: Replay) -> None:
    replay.ready("1001", "1002")
    replay.call("c1")  # 1001 has been idle longest: rung first
    replay.at(15, ev.OfferFailed("c1", "1001", "no-answer"))  # Asterisk's ring timeout
    replay.at(20, ev.OfferAnswered("c1", "1002", "PJSIP/1002-00000007"))


def test_answered_call_whose_first_agent_does_not_answer(one_queue: Config) -> None:
    replay = Replay(one_queue)
    _answered_after_no_answer(replay)
    replay.at(80, ev.CallerHungUp("c1"))
    assert replay.lines == [
        f"{T0}|MANAGER|general|PJSIP/1001|ADDMEMBER|",
        f"{T0}|MANAGER|general|PJSIP/1002|ADDMEMBER|",
        f"{T0}|c1|general|NONE|ENTERQUEUE||{CALLER}|1",
        f"{T0 + 15}|c1|general|PJSIP/1001|RINGNOANSWER|15000",
        # The seeds' no-answer rule pauses the agent, after the ring is logged (as app_queue's
        # autopause does).
        f"{T0 + 15}|NONE|NONE|PJSIP/1001|PAUSEALL|",
        f"{T0 + 15}|NONE|general|PJSIP/1001|PAUSE|no-answer",
        f"{T0 + 20}|c1|general|PJSIP/1002|CONNECT|20|PJSIP/1002-00000007|5",
        f"{T0 + 80}|c1|general|PJSIP/1002|COMPLETECALLER|20|60|1",
    ]


def test_agent_hanging_up_first_completes_by_the_agent(one_queue: Config) -> None:
    replay = Replay(one_queue)
    _answered_after_no_answer(replay)
    replay.at(95, ev.AgentLegHungUp("c1", "1002"))
    assert replay.call_lines()[-1] == f"{T0 + 95}|c1|general|PJSIP/1002|COMPLETEAGENT|20|75|1"


def test_callers_who_hang_up_waiting_abandon_from_where_they_stood(config: Config) -> None:
    on_a_break = configured(
        config, queues=[queue("general")], agents=[agent("1001", housekeeping=5)]
    )
    replay = Replay(on_a_break)
    replay.ready("1001")
    replay.send(ev.AgentPause("1001", "lunch"))  # staff of the queue, so callers may join
    replay.call("c1")
    replay.at(5, ev.CallEntered("c2", "PJSIP/trunk-c2", "13900139000", "home", "general"))
    replay.at(30, ev.CallerHungUp("c2"))  # second in line
    replay.at(42, ev.CallerHungUp("c1"))
    assert replay.call_lines() == [
        f"{T0}|c1|general|NONE|ENTERQUEUE||{CALLER}|1",
        f"{T0 + 5}|c2|general|NONE|ENTERQUEUE||13900139000|2",
        f"{T0 + 30}|c2|general|NONE|ABANDON|2|2|25",
        f"{T0 + 42}|c1|general|NONE|ABANDON|1|1|42",
    ]
    assert [e.kind for e in replay.timeline("c2")] == ["enter", "abandon"]


def test_caller_hanging_up_while_the_agent_rings_cancels_the_ring(one_queue: Config) -> None:
    replay = Replay(one_queue)
    replay.ready("1001")
    replay.call("c1")
    replay.at(4, ev.CallerHungUp("c1"))
    assert replay.call_lines() == [
        f"{T0}|c1|general|NONE|ENTERQUEUE||{CALLER}|1",
        f"{T0 + 4}|c1|general|PJSIP/1001|RINGCANCELED|4000",
        f"{T0 + 4}|c1|general|NONE|ABANDON|1|1|4",
    ]
    failed = [e for e in replay.timeline("c1") if e.kind == "offer-failed"]
    assert dict(failed[0].data) == {"reason": "caller-hung-up", "ring_seconds": 4.0}


def test_max_wait_exits_with_timeout(config: Config) -> None:
    strict = configured(
        config,
        queues=[queue("general", max_wait_seconds=60)],
        agents=[agent("1001", housekeeping=5)],
    )
    replay = Replay(strict)
    replay.ready("1001")
    replay.send(ev.AgentPause("1001", "training"))
    replay.call("c1")
    replay.at(60, ev.Tick())
    assert replay.call_lines() == [
        f"{T0}|c1|general|NONE|ENTERQUEUE||{CALLER}|1",
        f"{T0 + 60}|c1|general|NONE|EXITWITHTIMEOUT|1|1|60",
    ]
    exit_ = replay.timeline("c1")[-1]
    assert (exit_.kind, dict(exit_.data)) == ("exit", {"reason": "timeout", "wait_seconds": 60.0})


def test_overflow_leaves_one_queue_by_timeout_and_enters_the_next(config: Config) -> None:
    overflowing = configured(
        config,
        queues=[
            queue("general", max_wait_seconds=30, on_timeout=QueueExit(queue="repairs")),
            queue("repairs", skills={"repairs": 1}),
        ],
        agents=[agent("1001", housekeeping=5), agent("1003", repairs=5)],
    )
    replay = Replay(overflowing)
    replay.ready("1001", "1003")
    replay.send(ev.AgentPause("1001", "break"))
    replay.send(ev.AgentPause("1003", "break"))
    replay.call("c1")
    replay.at(30, ev.Tick())
    assert replay.call_lines() == [
        f"{T0}|c1|general|NONE|ENTERQUEUE||{CALLER}|1",
        f"{T0 + 30}|c1|general|NONE|EXITWITHTIMEOUT|1|1|30",
        f"{T0 + 30}|c1|repairs|NONE|ENTERQUEUE||{CALLER}|1",
    ]
    move = replay.timeline("c1")[-1]
    assert (move.kind, move.queue, dict(move.data)) == (
        "move",
        "repairs",
        {"from": "general", "reason": "timeout"},
    )


def test_full_queue_turns_the_caller_away_at_the_door(config: Config) -> None:
    small = configured(
        config, queues=[queue("general", max_waiting=1)], agents=[agent("1001", housekeeping=5)]
    )
    replay = Replay(small)
    replay.ready("1001")
    replay.send(ev.AgentPause("1001", "break"))
    replay.call("c1")
    replay.call("c2")
    assert replay.call_lines() == [
        f"{T0}|c1|general|NONE|ENTERQUEUE||{CALLER}|1",
        f"{T0}|c2|general|NONE|FULL|",
    ]
    assert [e.kind for e in replay.timeline("c2")] == ["enter", "exit"]


def test_agent_login_pause_unpause_logout_on_each_of_their_queues(config: Config) -> None:
    two_queues = configured(
        config,
        queues=[queue("general"), queue("repairs", skills={"repairs": 1})],
        agents=[agent("1002", housekeeping=3, repairs=4)],
    )
    replay = Replay(two_queues)
    replay.ready("1002")
    replay.at(60, ev.AgentPause("1002", "lunch"))
    replay.at(1860, ev.AgentReady("1002"))
    replay.at(3600, ev.AgentLogout("1002"))
    assert replay.lines == [
        f"{T0}|MANAGER|general|PJSIP/1002|ADDMEMBER|",
        f"{T0}|MANAGER|repairs|PJSIP/1002|ADDMEMBER|",
        f"{T0 + 60}|NONE|NONE|PJSIP/1002|PAUSEALL|",
        f"{T0 + 60}|NONE|general|PJSIP/1002|PAUSE|lunch",
        f"{T0 + 60}|NONE|repairs|PJSIP/1002|PAUSE|lunch",
        f"{T0 + 1860}|NONE|NONE|PJSIP/1002|UNPAUSEALL|",
        f"{T0 + 1860}|NONE|general|PJSIP/1002|UNPAUSE|",
        f"{T0 + 1860}|NONE|repairs|PJSIP/1002|UNPAUSE|",
        f"{T0 + 3600}|MANAGER|general|PJSIP/1002|REMOVEMEMBER|",
        f"{T0 + 3600}|MANAGER|repairs|PJSIP/1002|REMOVEMEMBER|",
    ]


def test_a_moved_agents_lines_name_the_queues_it_serves_now(config: Config) -> None:
    """The seeds: the team lead puts people on line at once. A housekeeping agent moved to
    repairs leaves general and joins repairs in the queue_log, and its pauses from then on
    are logged on repairs, where it is a member, not on the queue its skills would choose."""
    two_queues = configured(
        config,
        queues=[queue("general"), queue("repairs", skills={"repairs": 1})],
        agents=[agent("1001", housekeeping=5)],
    )
    replay = Replay(two_queues)
    replay.ready("1001")
    replay.at(10, ev.SetQueues("1001", ("repairs",)))
    replay.at(20, ev.AgentPause("1001", "break"))
    replay.at(30, ev.AgentLogout("1001"))
    assert replay.lines == [
        f"{T0}|MANAGER|general|PJSIP/1001|ADDMEMBER|",
        f"{T0 + 10}|MANAGER|general|PJSIP/1001|REMOVEMEMBER|",
        f"{T0 + 10}|MANAGER|repairs|PJSIP/1001|ADDMEMBER|",
        f"{T0 + 20}|NONE|NONE|PJSIP/1001|PAUSEALL|",
        f"{T0 + 20}|NONE|repairs|PJSIP/1001|PAUSE|break",
        f"{T0 + 30}|MANAGER|repairs|PJSIP/1001|REMOVEMEMBER|",
    ]


def test_supervisors_are_members_only_while_put_on_the_queues(config: Config) -> None:
    lead = configured(
        config,
        queues=[queue("general")],
        agents=[agent("1090", "supervisor", housekeeping=5)],
    )
    replay = Replay(lead)
    replay.ready("1090")
    replay.send(ev.AgentPause("1090", "meeting"))
    assert replay.lines == []
    replay.at(10, ev.AgentReady("1090"))
    replay.at(20, ev.TakeCalls("1090", True))
    replay.at(30, ev.TakeCalls("1090", False))
    assert replay.lines == [
        f"{T0 + 20}|MANAGER|general|PJSIP/1090|ADDMEMBER|",
        f"{T0 + 30}|MANAGER|general|PJSIP/1090|REMOVEMEMBER|",
    ]


def test_timeline_adds_up_to_the_calls_wait_and_talk(one_queue: Config) -> None:
    replay = Replay(one_queue)
    replay.to(0.25)
    _answered_after_no_answer(replay)
    replay.to(81.5)
    replay.send(ev.AgentLegHungUp("c1", "1002"))
    record = replay.record("c1")
    steps = replay.timeline("c1")
    assert [e.kind for e in steps] == [
        "enter",
        "offer",
        "offer-failed",
        "offer",
        "connect",
        "hangup",
    ]
    times = [e.at for e in steps]
    assert times == sorted(times)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    connect = [e.kind for e in steps].index("connect")
    assert sum(gaps[:connect]) == pytest.approx(record.wait_seconds)
    assert sum(gaps[connect:]) == pytest.approx(record.talk_seconds)
    # Ringing plus waiting between offers is the whole wait.
    rings = [dict(e.data)["ring_seconds"] for e in steps if e.kind in ("offer-failed", "connect")]
    assert sum(r for r in rings if isinstance(r, float)) == pytest.approx(record.wait_seconds)
    assert dict(steps[-1].data) == {"side": "agent", "talk_seconds": 61.5}
    assert steps[2].agent == "1001" and dict(steps[2].data)["reason"] == "no-answer"


def test_same_steps_give_the_same_output(one_queue: Config) -> None:
    first, second = Replay(one_queue), Replay(one_queue)
    for replay in (first, second):
        _answered_after_no_answer(replay)
        replay.at(80, ev.CallerHungUp("c1"))
    assert first.lines == second.lines and first.events == second.events


def test_members_are_named_by_their_pjsip_interface() -> None:
    assert member("1001") == "PJSIP/1001"


def test_separators_in_a_caller_id_cannot_break_the_line(one_queue: Config) -> None:
    replay = Replay(one_queue)
    replay.send(ev.CallEntered("c1", "PJSIP/trunk-c1", "evil|x\n1", "home", "general"))
    assert replay.lines == [f"{T0}|c1|general|NONE|ENTERQUEUE||evil_x 1|1"]
