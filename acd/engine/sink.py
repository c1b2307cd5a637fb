"""Where everything the engine learns goes out: the records writer and the observers.

One sink, two doors. `decided` takes each step of the consumer (the event, the core's
decisions, the time): the core's records go to the writer and the whole step to every
observer (timeline and queue_log, metrics, MQTT, the web), which are projections of the
facts in it. `record` takes what is made outside the core (the IVR's path, a survey score,
a recording checked on disk): to the writer, and to MQTT, which learns the core's records
from the observers instead, so nothing is published twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from acd.clock import Clock
from acd.core import events as ev
from acd.core.decisions import (
    AgentRecalled,
    AgentStateChanged,
    CallbackAttempt,
    CallbackReleased,
    CallbackRequested,
    CallRecord,
    Decision,
    RuleChanged,
)
from acd.records.items import Record

log = logging.getLogger(__name__)

#: Sees every event the core handled, the decisions it answered with and the time it used.
#: Observers (queue_log, MQTT, metrics, the web pages) must be quick and must not raise;
#: one that raises is logged and the others still run.
Observer = Callable[[ev.Event, list[Decision], float], None]


class Sink:
    def __init__(self, submit: Callable[[Record], None], clock: Clock) -> None:
        self._submit = submit
        self._clock = clock
        self.observers: list[Observer] = []
        #: MQTT's door for records made outside the core (None: no MQTT).
        self.publish: Callable[[Record, float], None] | None = None

    def record(self, item: Record) -> None:
        """A record made outside the core: to the writer and, as an event (a callback
        requested, a review due), to MQTT."""
        self._submit(item)
        if self.publish is not None:
            self.publish(item, self._clock.now())

    def decided(self, event: ev.Event, decisions: list[Decision], now: float) -> None:
        """One step of the consumer: the core's records written, the step observed."""
        for decision in decisions:
            match decision:
                case RuleChanged():
                    log.warning(
                        "rule %s %s (%s): %s",
                        decision.rule,
                        decision.state,
                        decision.scope,
                        ", ".join(f"{name}={value:g}" for name, value in decision.metrics),
                    )
                    self._submit(decision)
                case AgentStateChanged():
                    self._submit(decision)
                    log.info(
                        "agent %s: %s -> %s%s",
                        decision.agent,
                        decision.old,
                        decision.new,
                        f" ({decision.reason})" if decision.reason else "",
                    )
                case CallRecord() | CallbackAttempt() | CallbackRequested():
                    self._submit(decision)
                case AgentRecalled():
                    log.info(
                        "agent %s asked back from %s (rule %s)",
                        decision.agent,
                        decision.reason,
                        decision.rule,
                    )
                case CallbackReleased():
                    log.info("callback %s handed back: %s", decision.callback_id, decision.reason)
                case _:
                    pass
        for observer in self.observers:
            try:
                observer(event, decisions, now)
            except Exception:
                log.exception("observer %r failed on %s", observer, type(event).__name__)
