"""The core's steps as MQTT messages: one per state change, for wallboards and agent desktops.

Pure: no I/O and no clock; times are the core's `now` (or the record's own `at`). The mapper
remembers which queue and state each live call is in, because a call record that says
"waiting" may mean the call entered, was moved to another queue, or came back from an agent
who did not answer, and listeners want to be told which. It also remembers, for a while, the
agent and queue of ended calls, so that a survey score can name the agent whose review is due.

Privacy: broadcast topics carry the caller's number masked (`mask_number`); only the screen
pop, on the offered agent's own topic, carries it whole, because the agent may have to call
the customer back. docs/events.md lists every topic and payload.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from acd.clock import to_datetime
from acd.core import events as ev
from acd.core.decisions import (
    AgentRecalled,
    AgentStateChanged,
    CallbackAttempt,
    CallbackRequested,
    CallRecord,
    Decision,
    ExitQueue,
    Offer,
    Record,
    RuleChanged,
    SurveyScore,
)
from acd.privacy import mask_number

#: Payload schema version; bumped only for changes that break listeners.
VERSION = 1
#: Ended calls remembered for the survey that follows them (seconds later, one per call).
RECENT_CALLS = 4096
#: Keys a caller can press; the rest of an IVR path are menu names and outcomes.
KEYS = frozenset("0123456789*#")

Item = Decision | Record


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


@dataclass(slots=True)
class _Live:
    """What listeners were last told about a call."""

    queue: str
    status: str  # "waiting", "ringing", "dialing" (a callback's customer) or "answered"
    agent: str | None = None


def _payload(kind: str, at: float, /, **fields: Any) -> dict[str, Any]:
    return {"v": VERSION, "type": kind, "at": iso(at), **fields}


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass
class MessageMapper:
    """`(event, decisions, now) -> messages`, for the engine's observers (and records that do
    not pass through the core, like survey scores: give them as decisions)."""

    prefix: str = "acd"
    topics: Topics = field(init=False)
    _live: dict[str, _Live] = field(default_factory=dict, init=False)
    _ended: OrderedDict[str, tuple[str | None, str]] = field(
        default_factory=OrderedDict, init=False
    )

    def __post_init__(self) -> None:
        self.topics = Topics(self.prefix)

    def __call__(self, event: ev.Event, decisions: Sequence[Item], now: float) -> list[Message]:
        out: list[Message] = []
        for index, item in enumerate(decisions):
            if isinstance(item, CallRecord):
                self._call_record(event, item, now, out)
            elif isinstance(item, Offer):
                self._offer(item, _record_after(decisions, index, item.call_id), now, out)
            elif isinstance(item, ExitQueue):
                record = _record_after(decisions, index, item.call_id)
                self._exit(item, record, now, out)
            elif isinstance(item, AgentStateChanged):
                out.append(self._agent_state(item))
            elif isinstance(item, AgentRecalled):
                out.append(self._recalled(item))
            elif isinstance(item, RuleChanged):
                out.append(self._rule(item))
            elif isinstance(item, SurveyScore):
                self._survey(item, out)
            elif isinstance(item, CallbackAttempt):
                out.append(self._callback(item))
            elif isinstance(item, CallbackRequested):
                out.append(self._callback_requested(item))
        return out

    # -- calls ------------------------------------------------------------------------------
    def _call(
        self,
        out: list[Message],
        kind: str,
        record: CallRecord,
        at: float,
        queues: tuple[str, ...] = (),
        **fields: Any,
    ) -> None:
        """One call message, on the call's topic and on its queue's (or `queues`')."""
        payload = _payload(
            kind,
            at,
            call_id=record.call_id,
            caller=mask_number(record.caller),
            hotline=record.hotline,
            queue=record.queue,
            kind=record.kind,
            **fields,
        )
        out.append(Message(self.topics.call(record.call_id), payload))
        for queue in queues or (record.queue,):
            out.append(Message(self.topics.queue(queue), payload))

    def _call_record(
        self, event: ev.Event, record: CallRecord, now: float, out: list[Message]
    ) -> None:
        call_id = record.call_id
        live = self._live.get(call_id)
        if record.ended_at is not None:
            self._live.pop(call_id, None)
            self._ended[call_id] = (record.agent, record.queue)
            while len(self._ended) > RECENT_CALLS:
                self._ended.popitem(last=False)
            if record.disposition == "abandoned":
                self._call(
                    out,
                    "call.abandoned",
                    record,
                    record.ended_at,
                    wait_seconds=record.wait_seconds,
                    ringing_agent=record.agent,
                )
            self._call(
                out,
                "call.ended",
                record,
                record.ended_at,
                disposition=record.disposition,
                hangup_side=record.hangup_side,
                agent=record.agent,
                entered_at=iso(record.entered_at),
                answered_at=None if record.answered_at is None else iso(record.answered_at),
                wait_seconds=record.wait_seconds,
                talk_seconds=record.talk_seconds,
                offers=record.offers,
            )
            return
        if record.disposition == "waiting":
            if live is None:
                self._live[call_id] = _Live(record.queue, "waiting")
                # The queue the IVR asked for; the core may have sent the call on at once.
                asked = event if isinstance(event, ev.CallEntered) else None
                if asked is not None and asked.call_id != call_id:
                    asked = None
                self._call(
                    out,
                    "call.entered",
                    record,
                    now,
                    entered_at=iso(record.entered_at),
                    priority=None if asked is None else asked.priority,
                    requested_queue=None if asked is None else asked.queue,
                )
            elif live.queue != record.queue:
                old, live.queue, live.status, live.agent = live.queue, record.queue, "waiting", None
                self._call(
                    out,
                    "call.moved",
                    record,
                    now,
                    (old, record.queue),
                    from_queue=old,
                    wait_seconds=_seconds(now - record.entered_at),
                )
            elif live.status == "ringing":
                agent, live.status, live.agent = live.agent, "waiting", None
                self._call(
                    out,
                    "call.requeued",
                    record,
                    now,
                    agent=agent,
                    reason=_requeue_reason(event),
                    wait_seconds=_seconds(now - record.entered_at),
                )
        elif record.disposition == "ringing":
            if live is None:
                self._live[call_id] = _Live(record.queue, "ringing", record.agent)
            else:
                live.status, live.agent = "ringing", record.agent
        elif record.disposition == "dialing" and (live is None or live.status != "dialing"):
            # A callback: the agent answered and is on the line; the customer's phone rings.
            self._live[call_id] = _Live(record.queue, "dialing", record.agent)
            self._call(out, "call.dialing", record, now, agent=record.agent)
        elif record.disposition == "answered" and (live is None or live.status != "answered"):
            self._live[call_id] = _Live(record.queue, "answered", record.agent)
            answered = record.answered_at if record.answered_at is not None else now
            self._call(
                out,
                "call.answered",
                record,
                answered,
                agent=record.agent,
                wait_seconds=record.wait_seconds,
            )

    def _offer(
        self, offer: Offer, record: CallRecord | None, now: float, out: list[Message]
    ) -> None:
        entered = record.entered_at if record is not None else now
        hotline = record.hotline if record is not None else ""
        wait = _seconds(now - entered)
        base = CallRecord(
            offer.call_id, offer.caller, hotline, offer.queue, entered, kind=offer.kind
        )
        self._call(
            out,
            "call.offered",
            base,
            now,
            agent=offer.agent,
            ring_timeout=offer.ring_timeout,
            offer=record.offers if record is not None else None,
            wait_seconds=wait,
        )
        pop = _payload(
            "offer",
            now,
            call_id=offer.call_id,
            caller=offer.caller,  # whole: the agent's own topic, and the agent may call back
            hotline=hotline,
            queue=offer.queue,
            kind=offer.kind,
            callback_number=offer.callback_number,
            agent=offer.agent,
            ring_timeout=offer.ring_timeout,
            wait_seconds=wait,
            ivr_path=None,
            ivr_choices=[],
            history=None,
        )
        out.append(Message(self.topics.agent_offer(offer.agent), pop, screen_pop=True))

    def _exit(
        self, exit_: ExitQueue, record: CallRecord | None, now: float, out: list[Message]
    ) -> None:
        if record is None:  # the core always sends the ended record with it; be safe anyway
            return
        self._call(
            out,
            "call.left",
            record,
            now,
            reason=exit_.reason,
            goodbye_prompt=exit_.goodbye_prompt,
            wait_seconds=_seconds(now - record.entered_at),
        )

    # -- agents, rules, surveys, callbacks --------------------------------------------------
    def _agent_state(self, change: AgentStateChanged) -> Message:
        payload = _payload(
            "agent.state",
            change.at,
            agent=change.agent,
            old=change.old,
            new=change.new,
            reason=change.reason,
        )
        return Message(self.topics.agent_state(change.agent), payload, retain=True)

    def _recalled(self, recall: AgentRecalled) -> Message:
        """An agent on a break is asked back by a rule: on the agent's own topic, so the
        agent page and desktop tools can say so."""
        payload = _payload(
            "agent.recalled", recall.at, agent=recall.agent, reason=recall.reason, rule=recall.rule
        )
        return Message(self.topics.agent_recall(recall.agent), payload)

    def _rule(self, change: RuleChanged) -> Message:
        payload = _payload(
            f"rule.{change.state}",
            change.at,
            rule=change.rule,
            state=change.state,
            scope=change.scope,
            metrics=dict(change.metrics),
            actions=list(change.actions),
            alerts=list(change.alerts),
        )
        return Message(self.topics.rule(change.rule), payload, retain=True)

    def _survey(self, score: SurveyScore, out: list[Message]) -> None:
        agent, queue = self._ended.get(score.call_id, (None, None))
        fields = {
            "call_id": score.call_id,
            "agent": agent,
            "queue": queue,
            "score": score.score,
            "scale": score.scale,
            "dissatisfied": score.dissatisfied,
        }
        out.append(
            Message(self.topics.call(score.call_id), _payload("call.rated", score.at, **fields))
        )
        if score.review_due_at is not None:
            payload = _payload("review.due", score.at, **fields, due_at=iso(score.review_due_at))
            out.append(Message(self.topics.reviews(), payload))

    def _callback(self, attempt: CallbackAttempt) -> Message:
        payload = _payload(
            "callback.attempt",
            attempt.at,
            callback_id=attempt.callback_id,
            call_id=attempt.call_id,
            number=mask_number(attempt.number),
            queue=attempt.queue,
            kind=attempt.kind,
            agent=attempt.agent,
            attempt=attempt.attempt,
            outcome=attempt.outcome,
            retry_at=None if attempt.retry_at is None else iso(attempt.retry_at),
        )
        return Message(self.topics.callbacks(), payload)

    def _callback_requested(self, request: CallbackRequested) -> Message:
        payload = _payload(
            "callback.requested",
            request.requested_at,
            call_id=request.call_id,
            number=mask_number(request.caller),
            hotline=request.hotline,
            queue=request.queue,
            kind=request.kind,
            due_at=iso(request.due_at),
            status=request.status,
        )
        return Message(self.topics.callbacks(), payload)


def _record_after(decisions: Sequence[Item], index: int, call_id: str) -> CallRecord | None:
    """The call's record the core sends right after an offer or an exit."""
    for item in decisions[index + 1 :]:
        if isinstance(item, CallRecord) and item.call_id == call_id:
            return item
    return None


def _requeue_reason(event: ev.Event) -> str:
    """Why a ringing call went back to its queue, from the event that settled the offer."""
    if isinstance(event, ev.OfferFailed):
        return event.reason
    if isinstance(event, ev.AgentLegHungUp):
        return "rejected"
    if isinstance(event, ev.Tick):
        return "no-answer"  # the core's own ring timer
    return "failed"
