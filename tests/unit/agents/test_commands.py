"""One policy per agent action: every way of asking (control socket, web, phone) gets the
same event for a good request and the same error for a bad one."""

from __future__ import annotations

import pytest

from acd.config.models import Config
from acd.core import events as ev
from agents.commands import (
    OPERATOR,
    Actor,
    AgentAction,
    CommandError,
    Problem,
    SpyMode,
    actor_of,
    choosable_reasons,
    event_for,
    reason_on_key,
    require_supervisor,
    spy_mode,
)

AGENT = Actor("1001", supervises=False)
LEAD = Actor("1090", supervises=True)


def problem(config: Config, action: str, agent: str, by: Actor, **kw: object) -> Problem:
    with pytest.raises(CommandError) as refused:
        event_for(config, action, agent, by=by, **kw)
    return refused.value.problem


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("login", ev.AgentLogin("1001")),
        ("logout", ev.AgentLogout("1001")),
        ("ready", ev.AgentReady("1001")),
        ("pause", ev.AgentPause("1001", "break")),
    ],
)
def test_an_agent_drives_their_own_state(config: Config, action: str, expected: ev.Event) -> None:
    assert event_for(config, action, "1001", by=AGENT) == expected


def test_a_pause_carries_one_of_the_sites_reasons(config: Config) -> None:
    assert event_for(config, "pause", "1001", by=AGENT, reason="coaching") == ev.AgentPause(
        "1001", "coaching"
    )
    assert event_for(config, "pause", "1001", by=AGENT, reason="") == ev.AgentPause("1001", "break")
    for bad in ("nap", "meeting", "no-answer", 3, ["lunch"]):
        assert problem(config, "pause", "1001", AGENT, reason=bad) is Problem.UNKNOWN_REASON


def test_the_operator_gets_the_same_reasons_checked(config: Config) -> None:
    assert problem(config, "pause", "1002", OPERATOR, reason="nap") is Problem.UNKNOWN_REASON


def test_an_agent_acts_only_on_themself(config: Config) -> None:
    assert problem(config, "pause", "1002", AGENT) is Problem.NOT_ALLOWED
    assert problem(config, "login", "1002", Actor(None, supervises=False)) is Problem.NOT_ALLOWED


@pytest.mark.parametrize("action", ["join", "leave", "move"])
def test_deciding_who_takes_calls_is_for_supervisors(config: Config, action: str) -> None:
    assert problem(config, action, "1001", AGENT) is Problem.NOT_ALLOWED
    assert problem(config, action, "1001", actor_of(config, "1001")) is Problem.NOT_ALLOWED


def test_a_supervisor_joins_and_leaves_the_queues_from_their_own_phone(config: Config) -> None:
    own = actor_of(config, "1090")
    assert event_for(config, "join", "1090", by=own) == ev.TakeCalls("1090", True)
    assert event_for(config, "leave", "1090", by=own) == ev.TakeCalls("1090", False)


def test_a_supervisor_acts_on_anyone(config: Config) -> None:
    assert event_for(config, "pause", "1002", by=LEAD, reason="lunch") == ev.AgentPause(
        "1002", "lunch"
    )
    assert event_for(config, "logout", "1001", by=OPERATOR) == ev.AgentLogout("1001")


def test_a_move_names_known_queues_or_none(config: Config) -> None:
    assert event_for(config, "move", "1001", by=LEAD, queues=["billing"]) == ev.SetQueues(
        "1001", ("billing",)
    )
    back_to_skills: tuple[object, ...] = (None, [])
    for back in back_to_skills:
        assert event_for(config, "move", "1001", by=OPERATOR, queues=back) == ev.SetQueues(
            "1001", None
        )
    wrong: tuple[object, ...] = (["sales"], "billing", [1], {"billing": 1})
    for bad in wrong:
        assert problem(config, "move", "1001", LEAD, queues=bad) is Problem.UNKNOWN_QUEUE


def test_unknown_actions_and_agents_are_refused_before_anything_else(config: Config) -> None:
    assert problem(config, "dance", "1001", AGENT) is Problem.UNKNOWN_ACTION
    assert problem(config, "pause", "9999", OPERATOR) is Problem.UNKNOWN_AGENT
    # An unknown agent is unknown to everyone, not "not yours".
    assert problem(config, "pause", "9999", AGENT) is Problem.UNKNOWN_AGENT
    with pytest.raises(CommandError):
        actor_of(config, "9999")


def test_every_action_has_its_event(config: Config) -> None:
    events = {
        action: type(event_for(config, action, "1090", by=OPERATOR)) for action in AgentAction
    }
    assert events == {
        AgentAction.LOGIN: ev.AgentLogin,
        AgentAction.LOGOUT: ev.AgentLogout,
        AgentAction.READY: ev.AgentReady,
        AgentAction.PAUSE: ev.AgentPause,
        AgentAction.JOIN: ev.TakeCalls,
        AgentAction.LEAVE: ev.TakeCalls,
        AgentAction.MOVE: ev.SetQueues,
    }


def test_phone_keys_name_the_sites_reasons(config: Config) -> None:
    assert reason_on_key(config, "5") == "coaching"
    assert reason_on_key(config, "") == "break"
    with pytest.raises(CommandError) as refused:
        reason_on_key(config, "7")
    assert refused.value.problem is Problem.UNKNOWN_REASON
    assert choosable_reasons(config) == ["break", "lunch", "coaching"]


def test_only_a_supervisor_by_the_config_joins_a_call(config: Config) -> None:
    assert spy_mode(config, "whisper", "1001", supervisor="1090") is SpyMode.WHISPER
    assert SpyMode.BARGE.chanspy_options == "B"
    cases = [
        ("sing", "1001", "1090", Problem.UNKNOWN_MODE),
        ("listen", "9999", "1090", Problem.UNKNOWN_AGENT),
        ("listen", "1001", "1002", Problem.NOT_ALLOWED),
        ("listen", "1001", "9999", Problem.NOT_ALLOWED),
    ]
    for mode, agent, supervisor, expected in cases:
        with pytest.raises(CommandError) as refused:
            spy_mode(config, mode, agent, supervisor=supervisor)
        assert refused.value.problem is expected, (mode, agent, supervisor)


def test_only_a_supervisor_in_the_config_may_join_a_call(config: Config) -> None:
    """The seeds: the team lead listens in, whispers or barges; an agent never does, and
    neither does a number the config does not have, whoever relays the request."""
    assert require_supervisor(config, "1090").number == "1090"
    for number in ("1001", "9999"):
        with pytest.raises(CommandError) as refused:
            require_supervisor(config, number)
        assert refused.value.problem is Problem.NOT_ALLOWED
