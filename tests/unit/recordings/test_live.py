"""Which calls are recorded, where, and the agent's pauses on the record (which keys pause
it is the AMI translator's, tested in tests/unit/engine)."""

from __future__ import annotations

from pathlib import Path

from acd.config import Config, load_config
from acd.core.decisions import CallRecord
from recordings.live import Recorder, chosen

SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"
T0 = 1_795_000_000.0


def config(policy: dict[str, object] | None = None) -> Config:
    base = load_config(SHIPPED)
    if policy is None:
        return base
    data = base.model_dump()
    data["queues"][0]["recording"] = policy
    return Config.model_validate(data)


def answered(recorder: Recorder) -> None:
    path = recorder.plan("leg1", "call1", "1001", "13800138000", "general", T0)
    assert path is not None
    recorder.answered("leg1", "PJSIP/1001-00000001", T0 + 2)


def test_every_call_is_recorded_by_default_into_a_dated_agent_file() -> None:
    recorder = Recorder(config())
    path = recorder.plan("leg1", "call1", "1001", "13800138000", "general", T0)
    assert path is not None
    assert path.startswith("/var/spool/asterisk/acd/recordings/2026/")
    assert "agent1001" in path and path.endswith(".wav")


def test_never_and_percentage_policies() -> None:
    assert Recorder(config({"policy": "never"})).plan("l", "c", "1001", "1", "general", T0) is None
    sampled = config({"policy": "percent", "percent": 30})
    picks = [chosen(sampled, "general", f"call{i}") for i in range(2000)]
    assert 0.25 < sum(picks) / len(picks) < 0.35
    assert picks == [chosen(sampled, "general", f"call{i}") for i in range(2000)]  # stable


def test_a_pause_and_a_resume_are_kept_as_offsets_into_the_recording() -> None:
    recorder = Recorder(config())
    answered(recorder)
    assert recorder.resume("leg1", T0 + 3) is False  # not paused: nothing to resume
    assert recorder.pause("leg1", T0 + 3.5) is True
    assert recorder.pause("leg1", T0 + 4) is False  # already paused
    assert recorder.resume("leg1", T0 + 6.5) is True
    assert recorder.live["call1"].pauses == [[1.5, 4.5]]


def test_no_pause_without_a_recording_running() -> None:
    recorder = Recorder(config({"policy": "never"}))
    recorder.plan("leg1", "call1", "1001", "13800138000", "general", T0)
    recorder.answered("leg1", "PJSIP/1001-00000001", T0 + 2)
    assert recorder.pause("leg1", T0 + 3) is False
    assert recorder.pause("other-leg", T0 + 3) is False


def test_a_pause_still_open_at_hang_up_ends_with_the_call() -> None:
    recorder = Recorder(config())
    answered(recorder)
    recorder.pause("leg1", T0 + 3)
    record = CallRecord("call1", "13800138000", "home", "general", T0 - 5, "1001", T0 + 2, T0 + 9)
    finished = recorder.finished(record)
    assert finished is not None and finished.pauses == [[1.0, 7.0]]
    assert recorder.finished(record) is None


def test_an_unanswered_offer_leaves_nothing_behind() -> None:
    recorder = Recorder(config())
    recorder.plan("leg1", "call1", "1001", "13800138000", "general", T0)
    recorder.dropped("leg1")
    assert recorder.planned == {} and recorder.live == {}
