"""Which waiting call goes to which available agent: the pairs, as data, best call first.

Greedy, best call first: repeatedly the best-keyed waiting call that has any available agent
who fits goes to its best such agent. Candidates come only from what changed (see the
invariant in `acd.core.core`): each dirty call itself, and each dirty agent's best fitting
call. A heap holds them with lazy re-checks; an entry that went stale (call taken, agent
taken) is dropped or, for an agent still free, replaced by that agent's next best call.

`pairs` is a generator and the caller makes each offer before asking for the next pair: an
offer takes the call and the agent out of the indexes, which is what the next pair is chosen
from.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping

from acd.core.entities import Agent, Call, QueueState
from acd.core.routing import QueueKey

Candidate = tuple[QueueKey, str, str]  # (call key, call id, dirty agent or "")


def pairs(
    dirty_agents: Iterable[str],
    dirty_calls: Iterable[str],
    calls: Mapping[str, Call],
    agents: Mapping[str, Agent],
    queues: Mapping[str, QueueState],
) -> Iterator[tuple[Call, Agent]]:
    """(call, agent) to offer, until no pair is left among what changed."""
    heap: list[Candidate] = []
    for number in dirty_agents:
        _push_best_call(heap, agents[number], queues)
    for call_id in dirty_calls:
        call = calls.get(call_id)
        if call is not None and call.indexed:
            heap.append((call.key, call_id, ""))
    heapq.heapify(heap)
    while heap:
        _key, call_id, via = heapq.heappop(heap)
        call = calls.get(call_id)
        if via and not agents[via].in_index:
            continue
        if call is None or not call.indexed:
            if via:
                _push_best_call(heap, agents[via], queues)
            continue
        chosen = best_agent(call, queues)
        if chosen is None:
            continue
        yield call, agents[chosen]
        if via and via != chosen:
            _push_best_call(heap, agents[via], queues)


def _push_best_call(heap: list[Candidate], agent: Agent, queues: Mapping[str, QueueState]) -> None:
    """The best waiting call the agent fits: the head of each tier group it may serve."""
    if not agent.in_index:
        return
    best: tuple[QueueKey, str] | None = None
    for queue, tier, _score in agent.bands:
        groups = queues[queue].groups
        for group in groups[tier:]:
            head = group.first()
            if head is not None and (best is None or head < best):
                best = head
    if best is not None:
        heapq.heappush(heap, (best[0], best[1], agent.number))


def best_agent(call: Call, queues: Mapping[str, QueueState]) -> str | None:
    """The agent to ring for a call: the first tier with anyone available, then that
    band's order (skill score, then the queue's strategy)."""
    state = queues[call.record.queue]
    for band in state.bands[: call.tier + 1]:
        number = band.best(state.rr_last)
        if number is not None:
            return number
    return None
