"""Read-only views of the core's state for people (`acd status`) and wallboards.

A view may scan every call and agent: it is asked for now and then, not once per event, and
it decides nothing.
"""

from __future__ import annotations

from typing import Any

from acd.core.entities import Agent, Call, CallStatus, QueueState


def snapshot(
    queues: dict[str, QueueState], calls: dict[str, Call], agents: dict[str, Agent], now: float
) -> dict[str, Any]:
    """Queues with their waiting calls in offer order, ringing and talking; agents' states."""
    ringing: dict[str, list[dict[str, Any]]] = {name: [] for name in queues}
    talking: dict[str, int] = dict.fromkeys(queues, 0)
    for call in calls.values():
        queue = call.record.queue
        if queue not in ringing:
            continue
        if call.status is CallStatus.RINGING:
            ringing[queue].append({"call_id": call.record.call_id, "agent": call.agent})
        elif call.status is CallStatus.TALKING:
            talking[queue] += 1
    return {
        "queues": [
            {
                "name": name,
                "waiting": [_waiting(calls[call_id], now) for call_id in state.line.ordered()],
                "ringing": ringing[name],
                "talking": talking[name],
                "staff": state.capable,
                "handle_seconds": round(state.handle_time.seconds, 1),
            }
            for name, state in queues.items()
        ],
        "agents": [_agent(agent, now) for agent in agents.values()],
    }


def _waiting(call: Call, now: float) -> dict[str, Any]:
    return {
        "call_id": call.record.call_id,
        "caller": call.record.caller,
        "priority": -call.key.neg_priority,
        "wait_seconds": round(now - call.record.entered_at, 1),
    }


def _agent(agent: Agent, now: float) -> dict[str, Any]:
    return {
        "number": agent.number,
        "role": agent.role,
        "state": agent.state.value,
        "reason": agent.reason,
        "device": agent.device,
        "seconds_in_state": None if agent.since is None else round(now - agent.since, 1),
        "call_id": agent.call_id,
        "calls_taken": agent.calls_taken,
        "takes_calls": agent.on_queues,
        "moved_to": None if agent.only_queues is None else sorted(agent.only_queues),
    }
