"""Agent states as a transition table.

An illegal transition raises instead of quietly changing state: a desk that silently ends up
"ready" while its agent is at lunch rings an empty chair, and one stuck in "on-call" never
rings again. Either is worse than an error the operator can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AgentState(StrEnum):
    LOGGED_OUT = "logged-out"
    READY = "ready"
    RESERVED = "reserved"  # offered a call, phone ringing
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    NOT_READY = "not-ready"


class Trigger(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    READY = "ready"
    PAUSE = "pause"
    RESERVE = "reserve"
    ANSWER = "answer"
    NO_ANSWER = "no-answer"
    CANCEL = "cancel"  # caller gave up while the agent's phone rang
    HANGUP = "hangup"
    WRAP_UP_DONE = "wrap-up-done"


S, T = AgentState, Trigger

TRANSITIONS: dict[tuple[AgentState, Trigger], AgentState] = {
    (S.LOGGED_OUT, T.LOGIN): S.READY,
    (S.READY, T.LOGOUT): S.LOGGED_OUT,
    (S.NOT_READY, T.LOGOUT): S.LOGGED_OUT,
    (S.WRAP_UP, T.LOGOUT): S.LOGGED_OUT,
    (S.READY, T.PAUSE): S.NOT_READY,
    (S.WRAP_UP, T.PAUSE): S.NOT_READY,
    (S.NOT_READY, T.PAUSE): S.NOT_READY,  # changing the reason
    (S.NOT_READY, T.READY): S.READY,
    (S.WRAP_UP, T.READY): S.READY,
    (S.READY, T.READY): S.READY,
    (S.READY, T.RESERVE): S.RESERVED,
    (S.RESERVED, T.ANSWER): S.ON_CALL,
    (S.RESERVED, T.NO_ANSWER): S.NOT_READY,
    (S.RESERVED, T.CANCEL): S.READY,
    (S.ON_CALL, T.HANGUP): S.WRAP_UP,
    (S.WRAP_UP, T.WRAP_UP_DONE): S.READY,
}


class IllegalTransition(Exception):
    def __init__(self, agent: str, state: AgentState, trigger: Trigger) -> None:
        super().__init__(f"agent {agent}: cannot {trigger.value} while {state.value}")
        self.agent = agent
        self.state = state
        self.trigger = trigger


@dataclass(frozen=True, slots=True)
class Transition:
    old: AgentState
    new: AgentState


def next_state(agent: str, state: AgentState, trigger: Trigger) -> AgentState:
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalTransition(agent, state, trigger) from None
