"""The IVR as callers meet it: menus with real RFC 2833 keys, hours, the silent-call rule,
messages, transfers and the post-call survey (issue: IVR)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from acd import lab
from tests.e2e.conftest import AsteriskLog, EngineProcess, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password

pytestmark = pytest.mark.e2e


def call_row(engine: EngineProcess, caller: str) -> dict[str, Any] | None:
    for row in engine.calls():
        if row["caller"] == caller:
            return row
    return None


def with_path(engine: EngineProcess, caller: str) -> dict[str, Any] | None:
    row = call_row(engine, caller)
    return row if row and row["ivr_path"] else None


async def test_two_level_menu_into_a_queue_with_type_ahead(engine: EngineProcess) -> None:
    caller = "13800138301"
    # "4" opens the services menu; "1" pressed while its prompt plays picks training (jobs).
    call = await place_call("100", caller, dtmf="41", pre_dtmf_ms=800, hangup_after_ms=5000)
    assert call.ended_by == "local", call.run.describe()
    row = await eventually(lambda: with_path(engine, caller))
    assert row["ivr_path"] == "main/4/services/1"
    assert row["queue"] == "jobs"


async def test_invalid_then_timeout_then_the_fallback_queue(engine: EngineProcess) -> None:
    caller = "13800138302"
    # 7 is no option; then nothing: the menu retries, then hands the caller to a person.
    call = await place_call("100", caller, dtmf="7", pre_dtmf_ms=500, hangup_after_ms=22000)
    assert call.ended_by == "local", call.run.describe()
    row = await eventually(lambda: with_path(engine, caller))
    assert row["ivr_path"] == "main/7/timeout/timeout"
    assert (row["queue"], row["disposition"]) == ("general", "abandoned")


async def test_after_hours_takes_a_callback_due_within_five_working_days(
    engine: EngineProcess,
) -> None:
    caller = "13800138303"
    call = await place_call("101", caller, dtmf=None, max_ms=20000)
    assert call.ended_by == "remote", call.run.describe()
    rows = await eventually(lambda: [r for r in engine.cli("callbacks") if r["caller"] == caller])
    (request,) = rows
    assert (request["kind"], request["queue"], request["status"]) == (
        "after-hours",
        "general",
        "pending",
    )
    assert request["due_at"] > request["requested_at"]


async def test_a_message_is_left_and_stored(engine: EngineProcess) -> None:
    caller = "13800138304"
    # "4" services, "2" leave a message; the caller talks for a few seconds and hangs up.
    call = await place_call(
        "100", caller, dtmf="42", pre_dtmf_ms=800, audio=True, hangup_after_ms=8000
    )
    assert call.answered and call.ended_by in ("local", "remote"), call.run.describe()
    (message,) = await eventually(
        lambda: [m for m in engine.cli("messages") if m["caller"] == caller]
    )
    local = lab.lab_root() / Path(message["path"]).relative_to("/")
    assert local.exists() and local.stat().st_size > 8000  # half a second of audio, or more
    assert 0.5 <= message["seconds"] <= 8.0, message
    assert message["seconds"] == pytest.approx((local.stat().st_size - 44) / 16000, abs=0.01)
    assert local.parent.stat().st_mode & 0o007 == 0  # the folder is closed to others


async def test_a_failed_transfer_gives_the_number_to_call_later(engine: EngineProcess) -> None:
    caller = "13800138305"
    log = AsteriskLog()
    call = await place_call("100", caller, dtmf="43", pre_dtmf_ms=800, max_ms=60000)
    assert call.ended_by == "remote", call.run.describe()
    new = log.new()
    assert "(Dial) Options: (PJSIP/95000@partners" in new
    from acd.config import load_config
    from acd.prompts import sound_name

    failed = sound_name(load_config(engine.conf), "transfer_failed", "zh")
    assert f"Playing '{failed}" in new


async def test_silent_caller_is_asked_twice_then_hung_up(engine: EngineProcess) -> None:
    caller = "13800138306"
    call = await place_call("100", caller, dtmf=None, max_ms=40000)
    assert call.ended_by == "remote", call.run.describe()  # the IVR hung up
    row = await eventually(lambda: with_path(engine, caller))
    assert row["ivr_path"] == "main/timeout/silence/silence"


async def test_a_caller_who_speaks_is_not_hung_up(engine: EngineProcess) -> None:
    caller = "13800138307"
    call = await place_call("100", caller, dtmf=None, audio=True, hangup_after_ms=14000)
    assert call.ended_by == "local", call.run.describe()  # still on the line: we hung up
    row = await eventually(lambda: with_path(engine, caller))
    assert row["ivr_path"] == "main/timeout/voice"
    assert row["queue"] == "general"


async def test_survey_score_lands_on_the_record_and_low_scores_are_flagged(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138308"
    async with SippAgent("1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=1500):
        await eventually(lambda: engine.agent("1001")["device"] == "NOT_INUSE")
        # "1" for the queue; 4.5 s later, in the survey after the agent hung up, "2".
        call = await place_call(
            "100", caller, dtmf="12", pre_dtmf_ms=800, dtmf_gap_ms=4500, max_ms=30000
        )
        assert call.ended_by == "remote", call.run.describe()
    row = await eventually(lambda: (r := call_row(engine, caller)) and r["survey_score"] and r)
    assert (row["survey_score"], row["survey_scale"], row["dissatisfied"]) == (2, 5, True)
    assert (row["agent"], row["hangup_side"]) == ("1001", "agent")
    # A dissatisfied rating opens a review of the call for the team lead, due within 2 hours.
    (review,) = [r for r in engine.cli("reviews", "list") if r["call_id"] == row["call_id"]]
    assert (review["agent"], review["reason"], review["overdue"]) == ("1001", "dissatisfied", False)
    due = datetime.fromisoformat(review["due_at"]) - datetime.fromisoformat(review["created_at"])
    assert abs(due.total_seconds() - 7200) < 5
