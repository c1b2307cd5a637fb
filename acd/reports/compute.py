"""Report figures from plain rows, with no I/O: the definitions ops read the numbers by.

Calls belong to the interval in which they *entered* a queue, so a call is counted once, in
the interval where the caller started waiting, even if it was answered in the next one.
Intervals are aligned to midnight in the centre's time zone (09:00, 09:30, ... local).

- offered: inbound calls that reached a queue (disposition other than "ivr"), including calls
  still waiting or ringing at the end of the report and calls that left the queue otherwise
  (`exited`: the queue let them go - timeout, full, empty - or the caller chose to be called
  back: kind "virtual-hold", whose row then describes the callback). Calls the dialer placed
  (kinds "callback", "after-hours", "revisit") are not offered calls: they are counted under
  callbacks, and their agents' time under occupancy.
- answered: disposition "answered"; abandoned: "abandoned" (the caller hung up while waiting
  or while an agent's phone rang).
- short abandons: abandoned after waiting less than `short_abandon_seconds` (default 5 s). The
  usual convention: such callers hung up before anyone could have answered (misdials, changed
  minds), so they are left out of service level, answer rate and abandon rate, and shown apart.
- service level: calls answered within T of the call's queue (`service_level_seconds`, wait
  <= T) over offered minus short abandons. Calls abandoned after the threshold count against
  it, as do calls still waiting and calls the queue let go: the "X % of callers answered within
  T seconds" definition behind targets such as 80/20. Totals mix queues, each call with its
  own queue's T.
- answer rate: answered / (offered - short abandons); abandon rate: (abandoned - short
  abandons) / (offered - short abandons).
- ASA (average speed of answer): mean wait of answered calls.
- handled: answered calls that have ended (their talk time is known). Average talk: mean talk
  time of handled calls. Average wrap-up: the agents' wrap-up time after handled calls (the
  "wrap-up" interval in `agent_states` that starts when the call ended) over handled calls, a
  call without wrap-up counting 0. AHT = average talk + average wrap-up.
- agent time: `agent_states` intervals clipped to the interval and to the report range (and
  to `as_of`: the future has no state). Logged in: any state but "logged-out" (ready, ringing,
  on a call, wrap-up and not-ready all count). Occupancy: (on-call + wrap-up) / logged in.
  Queues have no agent time: agents serve several queues at once.
- callbacks: with `callback_attempts`, dials made in the interval and those whose outcome is
  "answered"; without it, callback requests whose status moved in the interval: made = their
  attempts, succeeded = those whose status is one of CALLBACK_SUCCESS_STATUSES.
- survey: mean score of the calls that have one; dissatisfied rate: calls flagged
  dissatisfied over calls with a score.

A figure whose denominator is zero is None ("-" in text), never a made-up 0 or 100 %.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from acd.reports.intervals import interval_starts
from acd.reports.query import CallbackDial, CallbackFact, CallFact, ReportData, StateChange
from acd.reports.report import Figures, Report, ReportSpec, Row

#: `callbacks.status` values meaning the caller was reached (without `callback_attempts`).
CALLBACK_SUCCESS_STATUSES = frozenset({"done", "answered", "completed", "succeeded"})
#: A wrap-up interval belongs to the agent's call that ended this close to its start: the core
#: records both at the same instant, so this only absorbs rounding.
WRAPUP_MATCH_SECONDS = 2.0

LOGGED_OUT = "logged-out"
ON_CALL = "on-call"
WRAP_UP = "wrap-up"
EXITED = frozenset({"timeout", "full", "empty"})
INBOUND = "inbound"
#: A caller who left the queue to be called back: their call's row is reused for the callback.
VIRTUAL_HOLD = "virtual-hold"


# Agent time.


@dataclass(frozen=True, slots=True)
class _Span:
    agent: str
    state: str
    begin: datetime
    finish: datetime


def _spans(states: Iterable[StateChange], open_until: datetime | None) -> list[_Span]:
    """Each state as the interval until the agent's next change; the last one runs to
    `open_until` (nothing is known after it)."""
    by_agent: dict[str, list[StateChange]] = {}
    for change in states:
        by_agent.setdefault(change.agent, []).append(change)
    spans = []
    for agent, changes in by_agent.items():
        changes.sort(key=lambda c: c.at)
        for change, following in zip(changes, [*changes[1:], None], strict=True):
            finish = following.at if following is not None else open_until
            if finish is not None and finish > change.at:
                spans.append(_Span(agent, change.new_state, change.at, finish))
    return spans


@dataclass
class _Tally:
    """Running sums for one row."""

    agent_time: bool = True
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    answered_in_sl: int = 0
    wait_sum: float = 0.0
    handled: int = 0
    talk_sum: float = 0.0
    wrap_sum: float = 0.0
    callbacks_made: int = 0
    callbacks_succeeded: int = 0
    surveys: int = 0
    score_sum: int = 0
    dissatisfied: int = 0
    logged_in: float = 0.0
    on_call: float = 0.0
    wrapup: float = 0.0

    def figures(self) -> Figures:
        counted = self.offered - self.short_abandoned
        busy = self.on_call + self.wrapup
        avg_talk = _ratio(self.talk_sum, self.handled)
        avg_wrap = _ratio(self.wrap_sum, self.handled)
        return Figures(
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            short_abandoned=self.short_abandoned,
            exited=self.exited,
            answered_in_sl=self.answered_in_sl,
            handled=self.handled,
            service_level=_ratio(self.answered_in_sl, counted),
            answer_rate=_ratio(self.answered, counted),
            abandon_rate=_ratio(self.abandoned - self.short_abandoned, counted),
            asa_seconds=_ratio(self.wait_sum, self.answered),
            avg_talk_seconds=avg_talk,
            avg_wrapup_seconds=avg_wrap,
            aht_seconds=None if avg_talk is None or avg_wrap is None else avg_talk + avg_wrap,
            callbacks_made=self.callbacks_made,
            callbacks_succeeded=self.callbacks_succeeded,
            surveys=self.surveys,
            survey_average=_ratio(self.score_sum, self.surveys),
            dissatisfied=self.dissatisfied,
            dissatisfied_rate=_ratio(self.dissatisfied, self.surveys),
            logged_in_seconds=self.logged_in if self.agent_time else None,
            on_call_seconds=self.on_call if self.agent_time else None,
            wrapup_state_seconds=self.wrapup if self.agent_time else None,
            occupancy=_ratio(busy, self.logged_in) if self.agent_time else None,
        )


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _wait(call: CallFact) -> float | None:
    if call.wait_seconds is not None:
        return call.wait_seconds
    until = call.answered_at if call.answered_at is not None else call.ended_at
    return None if until is None else (until - call.entered_at).total_seconds()


def _wrapups(calls: Iterable[CallFact], spans: Iterable[_Span]) -> dict[str, float]:
    """Seconds of wrap-up after each call, by call id: each agent's wrap-up interval goes to
    the call of that agent that ended when it began."""
    begins: dict[str, list[datetime]] = {}
    lengths: dict[str, list[float]] = {}
    for span in sorted(spans, key=lambda s: s.begin):
        if span.state == WRAP_UP:
            begins.setdefault(span.agent, []).append(span.begin)
            lengths.setdefault(span.agent, []).append((span.finish - span.begin).total_seconds())
    tolerance = timedelta(seconds=WRAPUP_MATCH_SECONDS)
    taken: set[tuple[str, int]] = set()
    out: dict[str, float] = {}
    for call in calls:
        if call.agent is None or call.ended_at is None or call.answered_at is None:
            continue
        starts = begins.get(call.agent, [])
        lo = bisect.bisect_left(starts, call.ended_at - tolerance)
        hi = bisect.bisect_right(starts, call.ended_at + tolerance)
        free = [i for i in range(lo, hi) if (call.agent, i) not in taken]
        if free:
            ended = call.ended_at
            best = min(free, key=lambda i: abs(starts[i] - ended))
            taken.add((call.agent, best))
            out[call.call_id] = lengths[call.agent][best]
    return out


def _add_call(tally: _Tally, call: CallFact, spec: ReportSpec, wrap: float | None) -> None:
    tally.offered += 1
    wait = _wait(call)
    if call.kind == VIRTUAL_HOLD:
        tally.exited += 1
    elif call.disposition == "answered":
        tally.answered += 1
        tally.wait_sum += wait or 0.0
        if wait is not None and wait <= spec.threshold(call.queue):
            tally.answered_in_sl += 1
        if call.talk_seconds is not None:
            tally.handled += 1
            tally.talk_sum += call.talk_seconds
            tally.wrap_sum += wrap or 0.0
    elif call.disposition == "abandoned":
        tally.abandoned += 1
        if wait is not None and wait < spec.short_abandon_seconds:
            tally.short_abandoned += 1
    elif call.disposition in EXITED:
        tally.exited += 1
    if call.survey_score is not None:
        tally.surveys += 1
        tally.score_sum += call.survey_score
        tally.dissatisfied += int(call.dissatisfied)


def _add_time(tally: _Tally, state: str, seconds: float) -> None:
    if state == LOGGED_OUT or seconds <= 0:
        return
    tally.logged_in += seconds
    if state == ON_CALL:
        tally.on_call += seconds
    elif state == WRAP_UP:
        tally.wrapup += seconds


def _bucket(starts: list[datetime], when: datetime) -> int | None:
    index = bisect.bisect_right(starts, when) - 1
    return index if index >= 0 else None


def compute(data: ReportData, spec: ReportSpec) -> Report:
    """The report of `data` over `spec`'s range, by interval, queue and agent, with totals."""
    # Everything in UTC from here on (see interval_start).
    start, end = spec.start.astimezone(UTC), spec.end.astimezone(UTC)
    state_end = spec.state_end.astimezone(UTC)
    starts = interval_starts(start, end, spec.timezone, spec.interval)
    bounds = [*starts[1:], end]
    by_interval = [_Tally() for _ in starts]
    by_queue: dict[str, _Tally] = {}
    by_agent: dict[str, _Tally] = {}
    total = _Tally()

    def queue_tally(name: str) -> _Tally:
        return by_queue.setdefault(name, _Tally(agent_time=False))

    def agent_tally(number: str) -> _Tally:
        return by_agent.setdefault(number, _Tally())

    spans = _spans(data.states, end if spec.as_of is None else spec.as_of.astimezone(UTC))
    calls = [
        c
        for c in data.calls
        if c.disposition != "ivr"
        and c.kind in (INBOUND, VIRTUAL_HOLD)
        and start <= c.entered_at < end
    ]
    wraps = _wrapups(calls, spans)
    for call in calls:
        index = _bucket(starts, call.entered_at)
        tallies = [total, queue_tally(call.queue)]
        if index is not None:
            tallies.append(by_interval[index])
        if call.agent is not None:
            tallies.append(agent_tally(call.agent))
        for tally in tallies:
            _add_call(tally, call, spec, wraps.get(call.call_id))

    for span in spans:
        begin, finish = max(span.begin, start), min(span.finish, state_end)
        if finish <= begin or span.state == LOGGED_OUT:
            continue  # an agent logged out all along is not in the report
        seconds = (finish - begin).total_seconds()
        _add_time(total, span.state, seconds)
        _add_time(agent_tally(span.agent), span.state, seconds)
        index = _bucket(starts, begin)
        while index is not None and index < len(starts) and starts[index] < finish:
            piece = min(finish, bounds[index]) - max(begin, starts[index])
            _add_time(by_interval[index], span.state, piece.total_seconds())
            index += 1

    for made, succeeded, queue, agent, at in _callback_events(data):
        if not start <= at < end:
            continue
        tallies = [total, queue_tally(queue)]
        if agent is not None:
            tallies.append(agent_tally(agent))
        index = _bucket(starts, at)
        if index is not None:
            tallies.append(by_interval[index])
        for tally in tallies:
            tally.callbacks_made += made
            tally.callbacks_succeeded += succeeded

    return Report(
        spec=spec,
        intervals=tuple(
            Row(
                "interval",
                t.figures(),
                start=s.astimezone(spec.timezone),
                end=e.astimezone(spec.timezone),
            )
            for t, s, e in zip(by_interval, starts, bounds, strict=True)
        ),
        queues=tuple(Row("queue", by_queue[q].figures(), queue=q) for q in sorted(by_queue)),
        agents=tuple(Row("agent", by_agent[a].figures(), agent=a) for a in sorted(by_agent)),
        total=Row("total", total.figures()),
    )


def _callback_events(
    data: ReportData,
) -> Iterable[tuple[int, int, str, str | None, datetime]]:
    """(made, succeeded, queue, agent, when) for each dial, or each callback that moved."""
    if data.dials is not None:
        dial: CallbackDial
        for dial in data.dials:
            yield 1, int(dial.outcome == "answered"), dial.queue, dial.agent, dial.at
        return
    callback: CallbackFact
    for callback in data.callbacks:
        succeeded = int(callback.status in CALLBACK_SUCCESS_STATUSES)
        if callback.attempts or succeeded:
            yield (
                max(callback.attempts, succeeded),
                succeeded,
                callback.queue,
                None,
                callback.updated_at,
            )
