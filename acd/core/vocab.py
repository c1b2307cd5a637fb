"""The words the core, the records and the events share, as typed vocabularies.

Each is a `StrEnum`: its members are the strings the database, queue_log, MQTT and the CLI
have always carried, so a stored row or a published event reads the same, while code that
builds one cannot misspell it.
"""

from __future__ import annotations

from enum import StrEnum


class CallKind(StrEnum):
    """How a call reached the queue."""

    INBOUND = "inbound"
    # A caller who pressed the callback key: hung up, keeps the place, is dialled back.
    VIRTUAL_HOLD = "virtual-hold"
    # Scheduled callbacks the dialer feeds from the records (new outbound calls).
    AFTER_HOURS = "after-hours"
    CALLBACK = "callback"
    REVISIT = "revisit"


#: Kinds the dialer feeds from the `callbacks` table.
SCHEDULED_KINDS = frozenset({CallKind.AFTER_HOURS, CallKind.CALLBACK, CallKind.REVISIT})


class Disposition(StrEnum):
    """Where a call stands (while live) or how it ended, on its call record."""

    WAITING = "waiting"
    RINGING = "ringing"
    DIALING = "dialing"  # a callback: the agent answered, the customer's phone rings
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TIMEOUT = "timeout"
    FULL = "full"
    EMPTY = "empty"
    CALLBACK_FAILED = "callback-failed"


class HangupSide(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"  # the engine ended it, or it ended while the engine was blind


class ExitReason(StrEnum):
    """Why a queue would not keep a call: it waited too long (max wait or an overflow
    step), the queue was full, or the queue had nobody to take it."""

    TIMEOUT = "timeout"
    FULL = "full"
    EMPTY = "empty"
    REMOVED = "removed"  # a reload took the queue away


class LeaveReason(StrEnum):
    """Why a waiting caller left the line without reaching an agent."""

    ABANDONED = "abandoned"  # hung up
    TIMEOUT = "timeout"  # let go with a goodbye
    FULL = "full"
    EMPTY = "empty"
    VIRTUAL_HOLD = "virtual-hold"  # pressed the callback key: off the line, place kept


class OfferFailure(StrEnum):
    """Why an offer to an agent ended without a conversation."""

    NO_ANSWER = "no-answer"  # rang for the ring timeout
    BUSY = "busy"
    UNAVAILABLE = "unavailable"  # the phone could not be reached
    REJECTED = "rejected"  # the agent declined
    FAILED = "failed"  # the originate itself failed
    CALLER_HUNG_UP = "caller-hung-up"  # the caller left while the phone rang


class CallbackOutcome(StrEnum):
    """How one dial of a callback went."""

    ANSWERED = "answered"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    AGENT_NO_ANSWER = "agent-no-answer"
    AGENT_HUNG_UP = "agent-hung-up"


class RuleState(StrEnum):
    FIRED = "fired"
    CLEARED = "cleared"
