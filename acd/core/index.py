"""Ordered indexes of available agents and waiting calls, each operation O(log n).

The router never scans agents or calls: it peeks at the first entry of a few of these indexes
(one per queue and tier, so their number is config size) and keeps them up to date when an
agent's availability or a call's place changes. sortedcontainers' SortedList does the work; it
ships without type hints, so it is wrapped here once behind a small typed class.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar, cast

from sortedcontainers import SortedList  # type: ignore[import-untyped]

from acd.core.routing import QueueKey

T = TypeVar("T", bound=tuple[Any, ...])

# (-skill score, strategy key, agent number): the first entry is the agent to ring.
AgentKey = tuple[int, float, str]
# (call's queue key, call id): the first entry is the call to offer.
CallEntry = tuple[QueueKey, str]


class Ordered(Generic[T]):
    """A sorted multiset of tuples: add, discard, first, rank and successor in O(log n)."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: Any = SortedList()

    def add(self, item: T) -> None:
        self._items.add(item)

    def discard(self, item: T) -> None:
        self._items.discard(item)

    def first(self) -> T | None:
        return cast(T, self._items[0]) if self._items else None

    def rank(self, item: T) -> int:
        """How many entries sort before `item`."""
        return int(self._items.bisect_left(item))

    def after(self, item: T) -> T | None:
        """The first entry that sorts after `item`, if any."""
        index = int(self._items.bisect_right(item))
        return cast(T, self._items[index]) if index < len(self._items) else None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(cast(list[T], self._items))


class AgentBand:
    """The available agents whose entry tier in one queue is one given tier.

    Keyed by (-score, strategy key, number) so the first entry is the agent the queue's
    strategy wants. Round-robin is the exception: its key has no strategy part, and the pick
    is the first agent of the best score whose number follows the queue's last pick (wrapping
    round), which is one more O(log n) lookup instead of a key that changes with every offer.
    """

    __slots__ = ("members", "round_robin")

    def __init__(self, round_robin: bool) -> None:
        self.members: Ordered[AgentKey] = Ordered()
        self.round_robin = round_robin

    def best(self, last: str | None) -> str | None:
        top = self.members.first()
        if top is None:
            return None
        if not self.round_robin or last is None:
            return top[2]
        following = self.members.after((top[0], top[1], last))
        if following is not None and following[0] == top[0]:
            return following[2]
        return top[2]

    def __len__(self) -> int:
        return len(self.members)


class WaitingLine:
    """One queue's waiting calls (not those ringing) in offer order, for position and length,
    and by arrival, for the longest wait (a priority caller is offered first but may not be
    the one who has waited longest)."""

    __slots__ = ("by_arrival", "entries")

    def __init__(self) -> None:
        self.entries: Ordered[CallEntry] = Ordered()
        self.by_arrival: Ordered[tuple[float, int, str]] = Ordered()

    def add(self, key: QueueKey, call_id: str) -> None:
        self.entries.add((key, call_id))
        self.by_arrival.add((key.entered_at, key.seq, call_id))

    def remove(self, key: QueueKey, call_id: str) -> None:
        self.entries.discard((key, call_id))
        self.by_arrival.discard((key.entered_at, key.seq, call_id))

    def oldest_entered_at(self) -> float | None:
        first = self.by_arrival.first()
        return None if first is None else first[0]

    def head(self) -> CallEntry | None:
        return self.entries.first()

    def position(self, key: QueueKey, call_id: str) -> int:
        """1 for the call offered next."""
        return self.entries.rank((key, call_id)) + 1

    def ordered(self) -> list[str]:
        """Waiting calls in offer order; for status and tests, not the hot path."""
        return [call_id for _, call_id in self.entries]

    def __len__(self) -> int:
        return len(self.entries)
