"""A caller's history (the seeds' screen pop for repeat callers), call timelines read back,
agents' sessions from their state history, case notes and complaints."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from acd.config import load_config
from acd.core import events as ev
from acd.core.decisions import AgentStateChanged, CallRecord
from acd.records.items import CaseNote, IvrPath, SurveyScore
from acd.records.store import Records
from acd.records.writer import RecordWriter
from tests.unit.core.conftest import SHIPPED
from tests.unit.records.replay import T0, Replay
from tests.unit.site import agent, configured, queue

NUMBER = "13800138000"
AT = float(T0)


def _call(call_id: str, start: float, disposition: str, agent: str | None = "1001") -> CallRecord:
    answered = start + 10 if disposition == "answered" else None
    return CallRecord(
        call_id=call_id,
        caller=NUMBER,
        hotline="home",
        queue="general",
        entered_at=start,
        agent=agent if answered else None,
        answered_at=answered,
        ended_at=start + (70 if answered else 25),
        disposition=disposition,
        hangup_side="caller",
        offers=1 if answered else 0,
    )


async def _write(url: str, *items: object) -> None:
    writer = RecordWriter(url, retry_initial=0.01, retry_max=0.05)
    await writer.start()
    for item in items:
        writer.submit(item)  # type: ignore[arg-type]
    await writer.close(timeout=10)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


async def test_caller_history_counts_every_call_and_lists_the_latest(
    db_url: str, records: Records
) -> None:
    await _write(
        db_url,
        _call("c1", AT, "answered"),
        SurveyScore("c1", 5, 5, False, AT + 80),
        IvrPath("c1", NUMBER, "home", "main:1>general", AT - 5),
        _call("c2", AT + 3600, "abandoned"),
        _call("c3", AT + 7200, "answered", agent="1002"),
        SurveyScore("c3", 2, 5, True, AT + 7300),
        CaseNote("c3", "1002", "保洁", "朝阳区 1 号", "13800138000", None, AT + 7250),
        replace(_call("other", AT + 100, "answered"), caller="13900139000"),
    )
    review = await records.open_complaint(
        "c3", "1002", "态度不好", _utc(AT + 7400), _utc(AT + 7400 + 86400)
    )
    assert review is not None

    history = await records.caller_history(NUMBER, limit=2)
    assert history["number"] == NUMBER
    assert history["calls"] == 3
    assert history["first_call"] == _utc(AT).isoformat()
    assert history["last_call"] == _utc(AT + 7200).isoformat()
    assert history["summary"] == {
        "answered": 2,
        "abandoned": 1,
        "rated": 2,
        "average_score": 3.5,
        "dissatisfied": 1,
        "complaints": 1,
    }
    calls = history["history"]
    assert isinstance(calls, list)
    assert [c["call_id"] for c in calls] == ["c3", "c2"]  # newest first, at most `limit`
    latest = calls[0]
    assert (latest["agent"], latest["disposition"], latest["survey_score"]) == (
        "1002",
        "answered",
        2,
    )
    assert latest["dissatisfied"] is True
    assert (latest["wait_seconds"], latest["talk_seconds"]) == (10.0, 60.0)
    assert latest["notes"] == [
        {
            "agent": "1002",
            "need": "保洁",
            "address": "朝阳区 1 号",
            "contact": "13800138000",
            "text": None,
            "at": _utc(AT + 7250).isoformat(),
        }
    ]
    assert latest["complaints"] == [
        {
            "review_id": review,
            "agent": "1002",
            "text": "态度不好",
            "at": _utc(AT + 7400).isoformat(),
            "due_at": _utc(AT + 7400 + 86400).isoformat(),
            "done_at": None,
        }
    ]
    first = (await records.caller_history(NUMBER))["history"]
    assert isinstance(first, list) and first[-1]["ivr_path"] == "main:1>general"


async def test_an_unknown_number_has_no_history(db_url: str, records: Records) -> None:
    history = await records.caller_history("10086")
    assert history == {
        "number": "10086",
        "calls": 0,
        "first_call": None,
        "last_call": None,
        "summary": {
            "answered": 0,
            "abandoned": 0,
            "rated": 0,
            "average_score": None,
            "dissatisfied": 0,
            "complaints": 0,
        },
        "history": [],
    }


async def test_notes_and_complaints_refuse_an_unknown_call(db_url: str, records: Records) -> None:
    note = CaseNote("nope", "1001", "保洁", None, None, None, AT)
    assert await records.add_case_note(note) is False
    assert await records.open_complaint("nope", "1001", "x", _utc(AT), _utc(AT + 60)) is None
    assert (await records.caller_history(NUMBER))["calls"] == 0


async def test_the_stored_timeline_adds_up_to_the_calls_wait_and_talk(
    db_url: str, records: Records
) -> None:
    config = configured(
        load_config(SHIPPED),
        queues=[queue("general", ring_timeout=15)],
        agents=[agent("1001", housekeeping=5), agent("1002", housekeeping=3)],
    )
    replay = Replay(config)
    replay.ready("1001", "1002")
    replay.to(0.5)
    replay.call("c1")
    replay.at(15.75, ev.OfferFailed("c1", "1001", "no-answer"))
    replay.at(21.25, ev.OfferAnswered("c1", "1002", "PJSIP/1002-00000001"))
    replay.at(96.5, ev.CallerHungUp("c1"))
    await _write(db_url, *replay.records, *replay.events)

    call = await records.get_call("c1")
    steps = await records.call_timeline("c1")
    assert call is not None
    assert [s["kind"] for s in steps] == [
        "enter",
        "offer",
        "offer-failed",
        "offer",
        "connect",
        "hangup",
    ]
    times = [datetime.fromisoformat(str(s["at"])) for s in steps]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    connect = 4
    assert sum(gaps[:connect]) == pytest.approx(call["wait_seconds"])
    assert sum(gaps[connect:]) == pytest.approx(call["talk_seconds"])
    assert steps[2]["data"] == {"reason": "no-answer", "ring_seconds": 15.25}
    assert steps[-1]["data"] == {"side": "caller", "talk_seconds": 75.25}


def _state(agent_: str, old: str, new: str, at: float, reason: str | None = None) -> object:
    return AgentStateChanged(agent_, old, new, reason, at)


async def test_agent_sessions_run_from_login_to_logout_with_each_state(
    db_url: str, records: Records
) -> None:
    await _write(
        db_url,
        _state("1001", "logged-out", "ready", AT),
        _state("1001", "ready", "not-ready", AT + 600, "lunch"),
        _state("1001", "not-ready", "ready", AT + 2400),
        _state("1001", "ready", "logged-out", AT + 3600),
        _state("1002", "logged-out", "ready", AT + 100),
        _state("1001", "logged-out", "ready", AT + 7200),  # a second shift, still on
        _state("1001", "ready", "not-ready", AT + 7300, "break"),
    )
    sessions = await records.agent_sessions(agent="1001")
    assert len(sessions) == 2
    first, second = sessions
    assert (first["login_at"], first["logout_at"], first["ended_by"]) == (
        _utc(AT).isoformat(),
        _utc(AT + 3600).isoformat(),
        "logout",
    )
    assert first["seconds"] == 3600.0
    assert first["seconds_by_state"] == {"ready": 1800.0, "not-ready": 1800.0}
    assert [(s["state"], s["reason"], s["seconds"]) for s in first["states"]] == [  # type: ignore[union-attr]
        ("ready", None, 600.0),
        ("not-ready", "lunch", 1800.0),
        ("ready", None, 1200.0),
    ]
    assert second["logout_at"] is None and second["ended_by"] is None

    everyone = await records.agent_sessions()
    assert sorted({str(s["agent"]) for s in everyone}) == ["1001", "1002"]
    # A window after the first shift keeps only what overlaps it.
    later = await records.agent_sessions(agent="1001", since=_utc(AT + 5000))
    assert [s["login_at"] for s in later] == [_utc(AT + 7200).isoformat()]
    # A window inside a shift still shows the whole shift, from its login.
    inside = await records.agent_sessions(
        agent="1001", since=_utc(AT + 1000), until=_utc(AT + 1100)
    )
    assert [s["login_at"] for s in inside] == [_utc(AT).isoformat()]


async def test_a_login_without_a_logout_closes_the_session_as_a_restart(
    db_url: str, records: Records
) -> None:
    await _write(
        db_url,
        _state("1001", "logged-out", "ready", AT),
        _state("1001", "logged-out", "ready", AT + 500),  # the engine restarted
    )
    sessions = await records.agent_sessions(agent="1001")
    assert [s["ended_by"] for s in sessions] == ["restart", None]
    assert sessions[0]["seconds"] == 500.0


async def test_naive_times_are_refused(db_url: str, records: Records) -> None:
    with pytest.raises(ValueError):
        await records.agent_sessions(since=datetime(2025, 1, 1))
