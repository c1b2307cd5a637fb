"""The facts the core states about a call, built from the call as it is when it states them.

The core decides; these only read a `Call` (and what the decision adds: a reason, an agent, a
position) and say it as the fact the consumers project (see `acd.core.facts`). The one thing
written is the ring start an ended offer uses up.
"""

from __future__ import annotations

from acd.core.decisions import CallRecord
from acd.core.entities import Call
from acd.core.facts import CallConnected, CallEnded, CallLeft, OfferEnded
from acd.core.vocab import CallKind, Disposition, HangupSide, LeaveReason, OfferFailure


def kind_of(call: Call) -> CallKind:
    return CallKind(call.kind)


def failure(reason: str) -> OfferFailure:
    """An adapter's failure reason as the vocabulary; an unknown one is a failed originate."""
    try:
        return OfferFailure(reason)
    except ValueError:
        return OfferFailure.FAILED


def left(
    call: Call,
    reason: LeaveReason,
    position: int,
    side: HangupSide,
    now: float,
    prompt: str | None = None,
) -> CallLeft:
    record = call.record
    return CallLeft(
        record.call_id,
        record.queue,
        reason,
        position,
        call.origposition,
        call.queued_at,
        record.entered_at,
        side,
        kind_of(call),
        now,
        prompt,
    )


def offer_ended(call: Call, agent: str, reason: OfferFailure, now: float) -> OfferEnded:
    """How an offer ended; the call's ring time is over with it."""
    ring = now - call.ring_started if call.ring_started is not None else 0.0
    call.ring_started = None
    return OfferEnded(
        call.record.call_id, agent, call.record.queue, reason, round(ring, 3), kind_of(call), now
    )


def connected(call: Call, agent: str, channel: str, now: float) -> CallConnected:
    ring = now - call.ring_started if call.ring_started is not None else 0.0
    record = call.record
    return CallConnected(
        record.call_id,
        agent,
        record.queue,
        channel,
        record.entered_at,
        call.queued_at,
        round(ring, 3),
        kind_of(call),
        now,
    )


def ended(call: Call, ended: CallRecord, side: HangupSide, now: float) -> CallEnded:
    return CallEnded(
        ended.call_id,
        ended.queue,
        ended.agent,
        side,
        Disposition(ended.disposition),
        ended.answered_at,
        call.queued_at,
        call.origposition,
        kind_of(call),
        now,
    )
