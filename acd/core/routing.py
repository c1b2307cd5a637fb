"""Who gets which call: waiting calls in priority-then-arrival order, and agent choice.

Kept apart from the event handling so the ordering rules can be read, tested and replaced on
their own. Waiting calls live in one heap per queue (lazy deletion: a call that left is
skipped when it reaches the top), so taking the next call costs O(log n).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(order=True, frozen=True, slots=True)
class QueueKey:
    """Sort key of a waiting call: higher priority first, then who came first."""

    neg_priority: int
    entered_at: float
    seq: int


@dataclass(slots=True)
class WaitingLine:
    """One queue's waiting calls; entries are (key, call_id, version)."""

    heap: list[tuple[QueueKey, str, int]] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=dict)  # call_id -> live version

    def push(self, key: QueueKey, call_id: str) -> None:
        version = self.members.get(call_id, 0) + 1
        self.members[call_id] = version
        heapq.heappush(self.heap, (key, call_id, version))

    def remove(self, call_id: str) -> None:
        self.members.pop(call_id, None)

    def _clean(self) -> None:
        while self.heap and self.members.get(self.heap[0][1]) != self.heap[0][2]:
            heapq.heappop(self.heap)

    def head(self) -> tuple[QueueKey, str] | None:
        self._clean()
        if not self.heap:
            return None
        key, call_id, _ = self.heap[0]
        return key, call_id

    def __len__(self) -> int:
        return len(self.members)

    def ordered(self) -> list[str]:
        """Waiting calls in offer order; for status and announcements, not the hot path."""
        live = [(k, c) for k, c, v in self.heap if self.members.get(c) == v]
        return [c for _, c in sorted(live)]


def skill_score(agent_skills: dict[str, int], required: dict[str, int]) -> int | None:
    """How well an agent fits a queue, or None when a required skill or level is missing."""
    score = 0
    for skill, minimum in required.items():
        level = agent_skills.get(skill, 0)
        if level < minimum:
            return None
        score += level
    return score


def heads_in_order(lines: dict[str, WaitingLine]) -> Iterator[tuple[QueueKey, str, str]]:
    """Each queue's first waiting call, best first: (key, queue, call_id)."""
    heads: list[tuple[QueueKey, str, str]] = []
    for queue, line in lines.items():
        head = line.head()
        if head is not None:
            heads.append((head[0], queue, head[1]))
    heads.sort()
    yield from heads


def pick_agent(
    candidates: Iterable[tuple[str, dict[str, int], float]], required: dict[str, int]
) -> str | None:
    """Highest skill match first, then longest idle. Candidates: (agent, skills, idle_since)."""
    best: tuple[int, float, str] | None = None
    for agent, skills, idle_since in candidates:
        score = skill_score(skills, required)
        if score is None:
            continue
        rank = (-score, idle_since, agent)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[2]
