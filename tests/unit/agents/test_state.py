"""Agent states: every legal move is in the table; anything else is an error, never a guess."""

from __future__ import annotations

import pytest

from agents.state import TRANSITIONS, AgentState, IllegalTransition, Trigger, next_state


def test_a_full_working_cycle() -> None:
    state = AgentState.LOGGED_OUT
    for trigger, expected in [
        (Trigger.LOGIN, AgentState.READY),
        (Trigger.RESERVE, AgentState.RESERVED),
        (Trigger.ANSWER, AgentState.ON_CALL),
        (Trigger.HANGUP, AgentState.WRAP_UP),
        (Trigger.WRAP_UP_DONE, AgentState.READY),
        (Trigger.PAUSE, AgentState.NOT_READY),
        (Trigger.READY, AgentState.READY),
        (Trigger.LOGOUT, AgentState.LOGGED_OUT),
    ]:
        state = next_state("1001", state, trigger)
        assert state is expected


def test_no_answer_pauses_the_agent() -> None:
    assert next_state("1001", AgentState.RESERVED, Trigger.NO_ANSWER) is AgentState.NOT_READY


@pytest.mark.parametrize("state", list(AgentState))
@pytest.mark.parametrize("trigger", list(Trigger))
def test_everything_outside_the_table_is_illegal(state: AgentState, trigger: Trigger) -> None:
    if (state, trigger) in TRANSITIONS:
        assert next_state("1001", state, trigger) is TRANSITIONS[(state, trigger)]
    else:
        with pytest.raises(IllegalTransition, match="agent 1001: cannot"):
            next_state("1001", state, trigger)


def test_an_agent_on_a_call_cannot_log_out() -> None:
    with pytest.raises(IllegalTransition):
        next_state("1001", AgentState.ON_CALL, Trigger.LOGOUT)
