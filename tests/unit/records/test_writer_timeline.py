"""RecordWriter: timeline steps, rule firings, callback attempts and case notes."""

from __future__ import annotations

import json

from sqlalchemy import select

from acd.core.decisions import CallbackAttempt, RuleChanged
from acd.records.items import CallEvent, CaseNote, IvrPath
from acd.records.models import CallbackAttemptRow, CallEventRow, CallNoteRow, RuleFiringRow
from acd.records.writer import RecordWriter
from tests.unit.records.reading import rows

T0 = 1_700_000_000.0


async def _write(url: str, *items: object) -> None:
    writer = RecordWriter(url, retry_initial=0.01, retry_max=0.05)
    await writer.start()
    for item in items:
        writer.submit(item)  # type: ignore[arg-type]
    await writer.close(timeout=10)
    assert writer.pending == 0


async def test_call_events_keep_submission_order_and_their_details(db_url: str) -> None:
    await _write(
        db_url,
        CallEvent("c1", "enter", T0, "general", None, (("position", 1), ("hotline", "home"))),
        CallEvent("c1", "offer", T0, "general", "1001", (("ring_timeout", 15.0),)),
        CallEvent("c1", "offer-failed", T0 + 15, "general", "1001", (("reason", "no-answer"),)),
    )
    found = await rows(db_url, select(CallEventRow).order_by(CallEventRow.id))
    assert [(r.kind, r.agent, json.loads(r.data)) for r in found] == [
        ("enter", None, {"position": 1, "hotline": "home"}),
        ("offer", "1001", {"ring_timeout": 15.0}),
        ("offer-failed", "1001", {"reason": "no-answer"}),
    ]
    assert found[2].at.timestamp() == T0 + 15


async def test_an_ivr_path_is_also_the_first_step_of_the_timeline(db_url: str) -> None:
    await _write(db_url, IvrPath("c1", "13800138000", "home", "main:1>general", T0 - 20))
    found = await rows(db_url, select(CallEventRow))
    assert [(r.kind, json.loads(r.data)) for r in found] == [
        ("ivr", {"path": "main:1>general", "hotline": "home"})
    ]


async def test_rule_firings_keep_what_the_rule_saw_and_did(db_url: str) -> None:
    fired = RuleChanged(
        "peak-8",
        "fired",
        "*",
        (("waiting", 8.0),),
        ("suspend-callbacks", "suspend-breaks"),
        T0,
    )
    await _write(
        db_url, fired, RuleChanged("peak-8", "cleared", "*", (("waiting", 3.0),), (), T0 + 60)
    )
    found = [r for r in await rows(db_url, select(RuleFiringRow).order_by(RuleFiringRow.id))]
    assert [(r.rule, r.state, r.scope) for r in found] == [
        ("peak-8", "fired", "*"),
        ("peak-8", "cleared", "*"),
    ]
    assert json.loads(found[0].metrics) == {"waiting": 8.0}
    assert json.loads(found[0].actions) == ["suspend-callbacks", "suspend-breaks"]


async def test_callback_attempts_are_appended(db_url: str) -> None:
    first = CallbackAttempt(
        7, "cb7-1", "13800138000", "general", "after-hours", "1001", 1, "no-answer", T0, T0 + 1800
    )
    virtual = CallbackAttempt(
        None, "c9", "13900139000", "general", "virtual-hold", "1002", 1, "answered", T0 + 5
    )
    await _write(db_url, first, virtual)
    found = [
        r for r in await rows(db_url, select(CallbackAttemptRow).order_by(CallbackAttemptRow.id))
    ]
    assert [(r.callback_id, r.call_id, r.outcome, r.attempt) for r in found] == [
        (7, "cb7-1", "no-answer", 1),
        (None, "c9", "answered", 1),
    ]
    assert found[0].retry_at.timestamp() == T0 + 1800 and found[1].retry_at is None


async def test_case_notes_hold_the_seeds_ticket(db_url: str) -> None:
    note = CaseNote("c1", "1001", "保洁 3 小时", "朝阳区 1 号", "13800138000", None, T0 + 30)
    await _write(db_url, note)
    found = [r for r in await rows(db_url, select(CallNoteRow))]
    assert [(r.kind, r.need, r.address, r.contact, r.text) for r in found] == [
        ("note", "保洁 3 小时", "朝阳区 1 号", "13800138000", None)
    ]
