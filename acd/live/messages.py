"""The core's steps as MQTT messages: one per state change, for wallboards and agent desktops.

Pure: no I/O and no clock; times are the facts' own `at` (an offer's is the core's `now`).
A projection of the core's facts: "entered", "moved", "requeued" and why, "answered" are
said by the core where it decided them, so the mapper only remembers each live call's caller,
hotline and current queue (every message carries them), and, for a while, the agent and queue
of ended calls, so that a survey score can name the agent whose review is due.

Privacy: broadcast topics carry the caller's number masked (`mask_number`); only the screen
pop, on the offered agent's own topic, carries it whole, because the agent may have to call
the customer back. docs/events.md lists every topic and payload.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from acd.core import events as ev
from acd.core.decisions import (
    AgentRecalled,
    AgentStateChanged,
    CallbackAttempt,
    CallbackRequested,
    CallRecord,
    Decision,
    Offer,
    RuleChanged,
)
from acd.core.facts import (
    CallArrived,
    CallConnected,
    CallLeft,
    CallQueued,
    CustomerDialled,
    OfferEnded,
)
from acd.core.vocab import Disposition, LeaveReason, OfferFailure
from acd.live.topics import VERSION, Message, Topics, iso
from acd.privacy import mask_number
from acd.records.items import Record, SurveyScore

Item = Decision | Record
#: Ended calls remembered for the survey that follows them (seconds later, one per call).
RECENT_CALLS = 4096
#: Callers the core let go with a reason of its own (a hang-up is `call.abandoned`, from the
#: record; a caller who chose a callback keeps the place and has not left).
_LET_GO = frozenset({LeaveReason.TIMEOUT, LeaveReason.FULL, LeaveReason.EMPTY})


@dataclass(slots=True)
class _Live:
    """A live call as listeners know it: who is calling, on which line, where it waits now.

    Identity, not inference: every field is copied from a fact the core emitted, so no message
    depends on guessing what a record snapshot meant.
    """

    caller: str
    hotline: str
    queue: str
    kind: str
    entered_at: float
    announced: bool = False  # call.entered sent (a scheduled callback never waits in a line)


def _payload(kind: str, at: float, /, **fields: Any) -> dict[str, Any]:
    return {"v": VERSION, "type": kind, "at": iso(at), **fields}


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass
class MessageMapper:
    """`(event, decisions, now) -> messages`, for the engine's observers (and records that do
    not pass through the core, like survey scores: give them as decisions).

    A projection of the core's facts (`acd.core.facts`): one `match`, one message kind per
    fact. Only the final call record is read, for `call.abandoned` / `call.ended`, because
    the record is what the call's row in the database says.
    """

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
        for item in decisions:
            match item:
                case CallArrived():
                    self._live.setdefault(
                        item.call_id,
                        _Live(item.caller, item.hotline, item.queue, item.kind, item.entered_at),
                    )
                case CallQueued():
                    self._queued(item, out)
                case Offer():
                    self._offer(item, now, out)
                case OfferEnded() if item.reason is not OfferFailure.CALLER_HUNG_UP:
                    self._call(
                        out,
                        "call.requeued",
                        item.call_id,
                        item.at,
                        agent=item.agent,
                        reason=item.reason,
                        wait_seconds=self._waited(item.call_id, item.at),
                    )
                case CustomerDialled():
                    self._call(out, "call.dialing", item.call_id, item.at, agent=item.agent)
                case CallConnected():
                    self._call(
                        out,
                        "call.answered",
                        item.call_id,
                        item.at,
                        agent=item.agent,
                        wait_seconds=item.hold_seconds,
                    )
                case CallLeft() if item.reason in _LET_GO:
                    self._call(
                        out,
                        "call.left",
                        item.call_id,
                        item.at,
                        reason=item.reason,
                        goodbye_prompt=item.goodbye_prompt,
                        wait_seconds=_seconds(item.at - item.entered_at),
                    )
                case CallRecord() if item.ended_at is not None:
                    self._ended_record(item, out)
                case AgentStateChanged():
                    out.append(self._agent_state(item))
                case AgentRecalled():
                    out.append(self._recalled(item))
                case RuleChanged():
                    out.append(self._rule(item))
                case SurveyScore():
                    self._survey(item, out)
                case CallbackAttempt():
                    out.append(self._callback(item))
                case CallbackRequested():
                    out.append(self._callback_requested(item))
        return out

    # -- calls ------------------------------------------------------------------------------
    def _call(
        self,
        out: list[Message],
        kind: str,
        call_id: str,
        at: float,
        queues: tuple[str, ...] = (),
        **fields: Any,
    ) -> None:
        """One call message, on the call's topic and on its queue's (or `queues`')."""
        live = self._live.get(call_id)
        if live is None:
            return  # a call the core never announced (cannot happen; be safe anyway)
        payload = _payload(
            kind,
            at,
            call_id=call_id,
            caller=mask_number(live.caller),
            hotline=live.hotline,
            queue=live.queue,
            kind=live.kind,
            **fields,
        )
        out.append(Message(self.topics.call(call_id), payload))
        for queue in queues or (live.queue,):
            out.append(Message(self.topics.queue(queue), payload))

    def _waited(self, call_id: str, at: float) -> float | None:
        live = self._live.get(call_id)
        return None if live is None else _seconds(at - live.entered_at)

    def _queued(self, queued: CallQueued, out: list[Message]) -> None:
        live = self._live.setdefault(
            queued.call_id,
            _Live(queued.caller, queued.hotline, queued.queue, queued.kind, queued.entered_at),
        )
        old, live.queue = live.queue, queued.queue
        if not live.announced:
            # The first line the call waits in, which may already be an overflow of the
            # queue it asked for (`requested_queue`): listeners learn of it once, here.
            live.announced = True
            self._call(
                out,
                "call.entered",
                queued.call_id,
                queued.at,
                entered_at=iso(queued.entered_at),
                priority=queued.priority,
                requested_queue=queued.requested,
            )
        elif old != queued.queue:
            self._call(
                out,
                "call.moved",
                queued.call_id,
                queued.at,
                (old, queued.queue),
                from_queue=old,
                wait_seconds=_seconds(queued.at - queued.entered_at),
            )

    def _ended_record(self, record: CallRecord, out: list[Message]) -> None:
        call_id = record.call_id
        self._ended[call_id] = (record.agent, record.queue)
        while len(self._ended) > RECENT_CALLS:
            self._ended.popitem(last=False)
        at = record.ended_at if record.ended_at is not None else record.entered_at
        if record.disposition == Disposition.ABANDONED:
            self._call(
                out,
                "call.abandoned",
                call_id,
                at,
                wait_seconds=record.wait_seconds,
                ringing_agent=record.agent,
            )
        self._call(
            out,
            "call.ended",
            call_id,
            at,
            disposition=record.disposition,
            hangup_side=record.hangup_side,
            agent=record.agent,
            entered_at=iso(record.entered_at),
            answered_at=None if record.answered_at is None else iso(record.answered_at),
            wait_seconds=record.wait_seconds,
            talk_seconds=record.talk_seconds,
            offers=record.offers,
        )
        self._live.pop(call_id, None)

    def _offer(self, offer: Offer, now: float, out: list[Message]) -> None:
        live = self._live.setdefault(
            offer.call_id,
            _Live(offer.caller, offer.hotline, offer.queue, offer.kind, offer.entered_at),
        )
        live.queue = offer.queue
        wait = _seconds(now - offer.entered_at)
        self._call(
            out,
            "call.offered",
            offer.call_id,
            now,
            agent=offer.agent,
            ring_timeout=offer.ring_timeout,
            offer=offer.attempt,
            wait_seconds=wait,
        )
        pop = _payload(
            "offer",
            now,
            call_id=offer.call_id,
            caller=offer.caller,  # whole: the agent's own topic, and the agent may call back
            hotline=offer.hotline,
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
