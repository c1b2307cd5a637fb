"""`acd caller`, `acd note` and `acd complaint` through `acd.cli.main.main`, on the records."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from acd.cli.main import main
from acd.config import load_config
from acd.core.decisions import CallRecord
from acd.records.casework import complaint_due
from acd.records.store import Records, Row
from acd.records.writer import RecordWriter

DIALPLANS = str(Path(__file__).resolve().parents[3] / "dialplans")
NUMBER = "13800138000"
AT = 1_700_000_000.0


@pytest.fixture
def url(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The records the commands read: one answered call from NUMBER, taken by 1002."""
    monkeypatch.setenv("ACD_DATABASE_URL", db_url)
    monkeypatch.setenv("ACD_STATE_DIR", str(tmp_path / "state"))

    async def seed() -> None:
        writer = RecordWriter(db_url)
        await writer.start()
        writer.submit(
            CallRecord(
                call_id="c1",
                caller=NUMBER,
                hotline="home",
                queue="general",
                entered_at=AT,
                agent="1002",
                answered_at=AT + 12,
                ended_at=AT + 192,
                disposition="answered",
                hangup_side="agent",
                offers=1,
            )
        )
        await writer.close(timeout=10)

    asyncio.run(seed())
    return db_url


def caller_history(url: str) -> Row:
    """NUMBER's history in the records, read after the command under test has exited."""

    async def read() -> Row:
        async with Records(url) as records:
            return await records.caller_history(NUMBER)

    return asyncio.run(read())


def open_reviews(url: str) -> list[Row]:
    """The open reviews in the records."""

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.reviews()

    return asyncio.run(read())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "-c", DIALPLANS])
    out, err = capsys.readouterr()
    return code, out, err


def test_caller_prints_the_history_as_text_and_json(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "caller", NUMBER)
    assert code == 0
    assert out.splitlines()[0].startswith(f"{NUMBER}: 1 calls, first 2023-11-14T22:13:20+00:00")
    assert "c1" in out and "agent 1002" in out and "wait 12s talk 180s" in out

    code, out, _ = run(capsys, "caller", NUMBER, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["calls"] == 1 and data["history"][0]["agent"] == "1002"


def test_caller_with_no_calls_says_so(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "caller", "10086")
    assert (code, out.strip()) == (0, "10086: no calls recorded")


def test_note_stores_the_ticket_on_the_call(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "note",
        "c1",
        "--agent",
        "1002",
        "--need",
        "月嫂",
        "--address",
        "海淀区 2 号",
        "--contact",
        "13800138000",
    )
    assert (code, out.strip()) == (0, "note stored on call c1")
    history = caller_history(url)
    notes = history["history"][0]["notes"]  # type: ignore[index]
    assert [(n["agent"], n["need"], n["address"]) for n in notes] == [
        ("1002", "月嫂", "海淀区 2 号")
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["note", "nope", "--agent", "1002", "--need", "x"], "no call nope in the records"),
        (["note", "c1", "--agent", "9999", "--need", "x"], "no agent 9999 in the config"),
        (["note", "c1", "--agent", "1002"], "say something"),
        (["complaint", "nope", "--agent", "1002", "--text", "x"], "no call nope in the records"),
        (["complaint", "c1", "--agent", "9999", "--text", "x"], "no agent 9999 in the config"),
    ],
)
def test_notes_and_complaints_refuse_what_does_not_exist(
    url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err
    history = caller_history(url)
    assert history["history"][0]["notes"] == []  # type: ignore[index]
    assert open_reviews(url) == []


def test_complaint_opens_a_review_against_the_agent_by_number(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)
    code, out, _ = run(
        capsys, "complaint", "c1", "--agent", "1002", "--text", "没有按时上门", "--json"
    )
    assert code == 0
    reply = json.loads(out)
    [review] = open_reviews(url)
    assert review["id"] == reply["review_id"]
    assert (review["call_id"], review["agent"], review["reason"]) == ("c1", "1002", "complaint")
    assert datetime.fromisoformat(str(review["due_at"])) > before
    history = caller_history(url)
    assert history["summary"]["complaints"] == 1  # type: ignore[index]
    assert history["history"][0]["complaints"][0]["text"] == "没有按时上门"  # type: ignore[index]


def test_a_complaint_is_due_by_the_close_of_the_next_working_day() -> None:
    """The seeds: the team lead calls a complainant back within one working day; the
    hotline's holidays (National Day) do not count."""
    config = load_config(Path(DIALPLANS))
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 9, 30, 10, 0, tzinfo=shanghai)
    assert complaint_due(config, "home", now) == datetime(2026, 10, 4, 17, 30, tzinfo=shanghai)
    # A call from a hotline the config no longer has is dated on the centre's calendar, open
    # around the clock: by the end of the next day, the same rule as any other line.
    assert complaint_due(config, "gone", now) == datetime(2026, 10, 2, 0, 0, tzinfo=shanghai)
