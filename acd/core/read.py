"""The core's state as frozen values, for readers outside the core.

The engine's adapters, the web pages and the metrics ask the core about calls and agents;
they get these copies, never the live `Call` and `Agent` objects the core mutates, so no
reader can change routing state by accident or see it half-way through an update.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.core.entities import Agent, Call, CallStatus
from agents.state import AgentState


@dataclass(frozen=True, slots=True)
class CallView:
    call_id: str
    channel: str  # the caller's channel in Asterisk; "" for a callback nobody holds for
    caller: str
    hotline: str
    queue: str
    status: CallStatus
    agent: str | None
    entered_at: float
    priority: int
    kind: str  # CallKind value


@dataclass(frozen=True, slots=True)
class AgentView:
    number: str
    role: str
    state: AgentState
    reason: str | None
    since: float | None
    device: str
    call_id: str | None
    queues: tuple[str, ...]  # the queues the agent serves now, in config order


def call_view(call: Call) -> CallView:
    record = call.record
    return CallView(
        call_id=record.call_id,
        channel=call.channel,
        caller=record.caller,
        hotline=record.hotline,
        queue=record.queue,
        status=call.status,
        agent=call.agent,
        entered_at=record.entered_at,
        priority=-call.key.neg_priority,
        kind=call.kind,
    )


def agent_view(agent: Agent) -> AgentView:
    return AgentView(
        number=agent.number,
        role=agent.role,
        state=agent.state,
        reason=agent.reason,
        since=agent.since,
        device=agent.device,
        call_id=agent.call_id,
        queues=agent.serves(),
    )
