"""The actions awaiting their answer, keyed by ActionID, and where each incoming frame goes.

Apart from the connection because routing a frame is the subtle part of AMI (an
OriginateResponse is an event that carries an ActionID, a list's items arrive as events before
or after its response, a repeated ActionID must not end a list early) and it needs no socket:
the client feeds it frames and fails it as a whole when the link drops.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Callable

from acd.ami.codec import Message
from acd.ami.errors import AmiDisconnected

Answer = tuple[Message, list[Message]]
"""An action's Response and, for a list action, its list events (without the terminator)."""


def is_error(msg: Message) -> bool:
    """`Response: Error`, in any letter case Asterisk or a proxy may use."""
    return (msg.get("Response") or "").lower() == "error"


def _list_started(msg: Message) -> bool:
    return (msg.get("EventList") or "").lower() == "start"


class PendingAction:
    """Book-keeping for one in-flight action: its future, and its list so far."""

    __slots__ = ("collect", "complete", "events", "future", "response")

    def __init__(self, future: asyncio.Future[Answer], collect: bool) -> None:
        self.future = future
        self.collect = collect
        self.response: Message | None = None
        self.events: list[Message] = []
        self.complete = False

    def on_response(self, msg: Message) -> None:
        if self.future.done() or self.response is not None:
            # The first reply decides; a repeat of the ActionID must not end a list early.
            return
        if not self.collect or is_error(msg) or not _list_started(msg):
            # Without "EventList: start" Asterisk will not send a list, so waiting would only
            # end in a timeout.
            self.future.set_result((msg, self.events))
            return
        self.response = msg
        self._maybe_resolve()

    def on_event(self, msg: Message) -> None:
        if self.future.done():
            return
        marker = (msg.get("EventList") or "").lower()
        if marker in ("complete", "cancelled"):
            # The terminator only carries ListItems; leaving it out lets callers treat every
            # returned event as a list item.
            self.complete = True
            self._maybe_resolve()
        else:
            self.events.append(msg)

    def _maybe_resolve(self) -> None:
        if self.complete and self.response is not None and not self.future.done():
            self.future.set_result((self.response, self.events))


class InFlight:
    """Issues ActionIDs, holds the pending actions and routes every frame read from Asterisk.

    Events that belong to no list go to `on_event`, isolated: a bug in the callback is logged,
    never allowed to take the link down.
    """

    def __init__(self, on_event: Callable[[Message], None], log: logging.Logger) -> None:
        self._on_event = on_event
        self._log = log
        # A per-client prefix keeps our ActionIDs distinguishable from other AMI users' in
        # Asterisk's logs; the counter never restarts, so a late reply can't match a new action.
        self._id_prefix = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        self._pending: dict[str, PendingAction] = {}

    def open(self, *, collect: bool) -> tuple[str, asyncio.Future[Answer]]:
        """A fresh ActionID and the future its answer will resolve."""
        action_id = f"{self._id_prefix}-{next(self._ids)}"
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = PendingAction(future, collect)
        return action_id, future

    def close(self, action_id: str) -> None:
        """Forget an action, answered or not: a late reply to it is then dropped."""
        self._pending.pop(action_id, None)

    def fail_all(self, reason: str) -> None:
        """The link is gone: every waiter learns it now instead of at its timeout."""
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(AmiDisconnected(reason))

    def dispatch(self, msg: Message) -> None:
        action_id = msg.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        # Events first: OriginateResponse carries both `Event` and `Response` (and the ActionID
        # of its Originate), and must never be mistaken for the Originate's reply.
        if msg.is_event:
            # A list already resolved passes its stragglers on like any event: whether they
            # arrived in the same read as its Complete must not decide if they are seen at all.
            if pending is not None and pending.collect and not pending.future.done():
                pending.on_event(msg)
            else:
                self._deliver_event(msg)
        elif msg.is_response:
            if pending is None:
                self._log.debug("AMI response for unknown ActionID %r dropped", action_id)
            else:
                pending.on_response(msg)
        else:
            # Its keys only: the values may carry a caller's number or name.
            keys = tuple(key for key, _ in msg)
            self._log.debug("AMI frame that is neither event nor response ignored: %r", keys)

    def _deliver_event(self, msg: Message) -> None:
        try:
            self._on_event(msg)
        except Exception:
            self._log.exception("AMI on_event callback failed for %s", msg.name)
