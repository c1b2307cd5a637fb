"""The core's book of scheduled callbacks: which are pending, which are out, what was dialled.

Scheduled callbacks (after hours, revisits, retries) are fed by the dialer from the records;
the core dials one only when an agent is free with no caller waiting for it, oldest request
first, and no more at once than the callback cap. This book owns that bookkeeping so the rules
that route calls do not carry it: the calls themselves stay in the core's `calls`.
"""

from __future__ import annotations

from acd.core.decisions import CallbackAttempt
from acd.core.entities import Call
from acd.core.index import Ordered

PendingEntry = tuple[float, int, str]  # (requested at, seq, call id): oldest request first


def _entry(call: Call) -> PendingEntry:
    return (call.key.entered_at, call.key.seq, call.record.call_id)


class CallbackBook:
    def __init__(self) -> None:
        # Fed by the dialer and not dialled yet, oldest request first.
        self._pending: Ordered[PendingEntry] = Ordered()
        self._ids: dict[int, str] = {}  # callback row -> its call while in the core
        # Dials made per callback row, so a poll that read the records before they caught up
        # with a dial (same attempt count) cannot make the core dial the customer again.
        self._dialled: dict[int, int] = {}
        self._out: set[str] = set()  # scheduled callbacks ringing an agent or dialled

    def __bool__(self) -> bool:
        """Any callback waiting to be dialled."""
        return bool(self._pending)

    def holds(self, callback_id: int) -> bool:
        """The callback is in the core already (the dialer polls again before it is dialled)."""
        return callback_id in self._ids

    def behind(self, callback_id: int, attempt: int) -> bool:
        """The dialer read the records before they caught up with a dial the core made."""
        return attempt < self._dialled.get(callback_id, 0)

    def admit(self, call: Call, callback_id: int) -> None:
        self._ids[callback_id] = call.record.call_id
        self._pending.add(_entry(call))

    def pending(self) -> list[str]:
        """The pending callbacks' call ids, oldest request first (a copy: safe to change)."""
        return [entry[2] for entry in self._pending]

    def out(self) -> int:
        """Scheduled callbacks ringing an agent or dialled now (what the cap counts)."""
        return len(self._out)

    def taken(self, call: Call) -> None:
        """Offered to an agent: no longer pending, counted against the cap."""
        self._pending.discard(_entry(call))
        self._out.add(call.record.call_id)

    def back(self, call: Call) -> None:
        """The agent did not take it: pending again, in its old place."""
        self._out.discard(call.record.call_id)
        self._pending.add(_entry(call))

    def forget(self, call: Call | None, call_id: str) -> None:
        """The call is over for the core: no entry about it is kept."""
        self._out.discard(call_id)
        if call is not None and call.callback_id is not None:
            self._ids.pop(call.callback_id, None)
            self._pending.discard(_entry(call))

    def attempt(
        self, call: Call, agent: str, outcome: str, retry_at: float | None, now: float
    ) -> CallbackAttempt:
        """The dial's outcome as a fact; the dial is counted for `behind`."""
        if call.callback_id is not None:
            self._dialled[call.callback_id] = call.attempt + 1
        return CallbackAttempt(
            callback_id=call.callback_id,
            call_id=call.record.call_id,
            number=call.number,
            queue=call.record.queue,
            kind=call.kind,
            agent=agent,
            attempt=call.attempt + 1,
            outcome=outcome,
            at=now,
            retry_at=retry_at,
        )
