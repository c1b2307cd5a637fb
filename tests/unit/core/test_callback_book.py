"""The callback book: oldest request first, a callback the agent did not take goes back to
its old place, and a poll that lags behind a dial the core made is recognised."""

from __future__ import annotations

from acd.core.callbacks import CallbackBook
from acd.core.decisions import CallRecord
from acd.core.entities import Call
from acd.core.routing import QueueKey


def scheduled(callback_id: int, requested_at: float, seq: int) -> Call:
    call_id = f"cb{callback_id}-1"
    record = CallRecord(call_id, "13900000000", "home", "general", requested_at, kind="revisit")
    key = QueueKey(0, requested_at, seq)
    return Call(record, "", key, kind="revisit", number="13900000000", callback_id=callback_id)


def test_pending_callbacks_come_oldest_request_first_and_an_untaken_one_keeps_its_place() -> None:
    book = CallbackBook()
    newer, older = scheduled(1, 200.0, 1), scheduled(2, 100.0, 2)
    book.admit(newer, 1)
    book.admit(older, 2)
    assert book.pending() == ["cb2-1", "cb1-1"]
    book.taken(older)
    assert book.pending() == ["cb1-1"] and book.out() == 1
    book.back(older)
    assert book.pending() == ["cb2-1", "cb1-1"] and book.out() == 0


def test_a_dial_is_remembered_after_the_call_is_forgotten() -> None:
    book = CallbackBook()
    call = scheduled(7, 100.0, 1)
    book.admit(call, 7)
    assert book.holds(7) and not book.behind(7, 0)
    book.taken(call)
    attempt = book.attempt(call, "1001", "no-answer", 400.0, 300.0)
    assert (attempt.attempt, attempt.retry_at) == (1, 400.0)
    book.forget(call, call.record.call_id)
    assert not book and not book.holds(7) and book.out() == 0
    assert book.behind(7, 0)  # the records still say 0 attempts: do not dial again
    assert not book.behind(7, 1)
