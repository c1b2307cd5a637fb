"""What goes on the wire: the message shape, the topic names and the times in payloads.

Shared by the mapper (which decides what to say) and the publisher (which completes screen
pops and sends), so neither needs the other's internals. docs/events.md lists every topic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from acd.clock import to_datetime

#: Payload schema version; bumped only for changes that break listeners.
VERSION = 1
#: Keys a caller can press; the rest of an IVR path are menu names and outcomes.
KEYS = frozenset("0123456789*#")


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: dict[str, Any]
    # Kept by the broker for late subscribers: only for topics that hold a current state.
    retain: bool = False
    # A screen pop still to be completed with the IVR path and the caller's history, which
    # need the database: the publisher does that, with a deadline, then sends it.
    screen_pop: bool = False

    def encode(self) -> bytes:
        # default=str: a history row with a date or a Decimal must not stop the publisher.
        text = json.dumps(self.payload, ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode()


def iso(ts: float) -> str:
    """Epoch seconds as ISO-8601 UTC with milliseconds, e.g. 2023-11-14T22:13:20.000+00:00."""
    return to_datetime(ts).isoformat(timespec="milliseconds")


def level(name: str) -> str:
    """A name as one topic level: wildcards or a "/" in it would change what a topic means."""
    return re.sub(r"[#+/\s\x00]", "_", name) or "_"


def ivr_choices(path: str | None) -> list[str]:
    """The keys the caller pressed, in order, from an IVR path like "main/1/services/2"."""
    return [part for part in (path or "").split("/") if part in KEYS]


def complete_screen_pop(
    message: Message, ivr_path: str | None, history: dict[str, Any] | None
) -> Message:
    """The screen pop with what the database knew in time; None where it did not answer.

    The call being offered already has a row (the IVR wrote it), so the history's list of
    calls would start with this very call: it is left out, the list shows earlier calls.
    """
    payload = dict(message.payload)
    payload["ivr_path"] = ivr_path
    payload["ivr_choices"] = ivr_choices(ivr_path)
    calls = history.get("history") if history is not None else None
    if history is not None and isinstance(calls, list):
        this = payload.get("call_id")
        earlier = [c for c in calls if not (isinstance(c, dict) and c.get("call_id") == this)]
        history = {**history, "history": earlier}
    payload["history"] = history
    return replace(message, payload=payload, screen_pop=False)


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = "acd"

    def call(self, call_id: str) -> str:
        return f"{self.prefix}/calls/{level(call_id)}"

    def queue(self, queue: str) -> str:
        return f"{self.prefix}/queues/{level(queue)}"

    def agent_state(self, agent: str) -> str:
        return f"{self.prefix}/agents/{level(agent)}/state"

    def agent_offer(self, agent: str) -> str:
        return f"{self.prefix}/agents/{level(agent)}/offer"

    def agent_recall(self, agent: str) -> str:
        return f"{self.prefix}/agents/{level(agent)}/recall"

    def rule(self, rule: str) -> str:
        return f"{self.prefix}/rules/{level(rule)}"

    def reviews(self) -> str:
        return f"{self.prefix}/reviews"

    def callbacks(self) -> str:
        return f"{self.prefix}/callbacks"
