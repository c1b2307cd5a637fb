"""A batch builds each item's rows with the builder registered for its type: every record
type has one, call records collapse to the last, and a survey's review names the agent the
call's row holds at that point of the batch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import get_args

from acd.core.decisions import CallRecord
from acd.records.batch import BUILDERS, Batch
from acd.records.items import CaseNote, IvrPath, Record, SurveyScore
from acd.records.models import CallEventRow, CallNoteRow, ReviewRow

T0 = 1_700_000_000.0
NOW = datetime.fromtimestamp(T0 + 1000, tz=UTC)


def test_every_record_type_has_a_row_builder_and_nothing_else_does() -> None:
    assert set(BUILDERS) == set(get_args(Record))


def test_a_call_records_last_state_wins_and_its_review_names_the_agent_then() -> None:
    waiting = CallRecord("c1", "0611", "1900", "sales", T0)
    answered = replace(waiting, agent="2001", answered_at=T0 + 20, disposition="answered")
    batch = Batch(NOW)
    for item in (
        waiting,
        answered,
        SurveyScore("c1", 1, 5, True, T0 + 300, review_due_at=T0 + 7500),
        replace(answered, agent="2002"),  # a later record does not change the review's agent
    ):
        batch.add(item)

    assert list(batch.calls) == ["c1"]
    assert batch.calls["c1"]["agent"] == "2002"
    assert batch.calls["c1"]["disposition"] == "answered"
    assert [row["agent"] for row in batch.appends[ReviewRow]] == ["2001"]
    assert batch.surveys["c1"]["b_score"] == 1


def test_an_ivr_path_makes_a_minimal_row_and_a_timeline_step_in_order() -> None:
    batch = Batch(NOW)
    batch.add(IvrPath("c2", "0611", "1900", "main:1", T0))
    batch.add(CaseNote("c2", "2001", "repair", None, None, None, T0 + 60))
    batch.add(IvrPath("c2", "", "", "main:1>2", T0 + 5))

    assert batch.minimal["c2"]["disposition"] == "ivr"
    # The path is the latest; caller and hotline only fill in blanks, so the first ones stay.
    assert batch.ivr_paths["c2"]["b_path"] == "main:1>2"
    assert batch.ivr_paths["c2"]["b_caller"] == "0611"
    assert [row["kind"] for row in batch.appends[CallEventRow]] == ["ivr", "ivr"]
    assert [row["need"] for row in batch.appends[CallNoteRow]] == ["repair"]
    assert not batch.calls
