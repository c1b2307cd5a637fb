"""`acd report` through `acd.cli.main.main`, on the fixed day stored in a real database."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acd.cli.common import CliError
from acd.cli.main import main
from acd.cli.reports import duration, when
from acd.reports.compute import compute
from acd.reports.render import to_dict
from tests.unit.reports import dataset as d
from tests.unit.site import site_data, write_site

RANGE = ["--from", "2025-03-03T09:00", "--to", "2025-03-03T10:00"]  # the centre's local time


@pytest.fixture
def config(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test site with repairs answering within 20 s, and the fixed day stored."""
    directory = _dialplans(tmp_path)
    monkeypatch.setenv("ACD_DATABASE_URL", db_url)
    monkeypatch.setenv("ACD_STATE_DIR", str(tmp_path / "state"))
    asyncio.run(d.store(db_url))
    return directory


def _dialplans(tmp_path: Path) -> str:
    """The test site (tests/unit/site.py) with the dataset's thresholds: repairs answers within
    20 s, general within the default 15 s."""
    data = site_data()
    (repairs,) = [q for q in data["queues"] if q["name"] == "repairs"]
    repairs["service_level_seconds"] = d.THRESHOLDS["repairs"]
    return str(write_site(tmp_path / "dialplans", data))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_the_report_of_the_fixed_day(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "-c", config, *RANGE, "--json")
    assert code == 0
    doc = json.loads(out)
    expected = to_dict(compute(d.data(), d.spec()))
    for part in ("range", "intervals", "queues", "agents", "total"):
        assert doc[part] == expected[part], part
    # Every configured queue's T, from the YAML (jobs keeps the default: the seeds' 3 rings).
    assert doc["settings"]["service_level_seconds"] == {
        "general": 15.0,
        "jobs": 15.0,
        "repairs": 20.0,
    }
    assert doc["total"]["service_level"] == 0.4545


def test_an_offset_in_the_time_is_honoured(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    utc = ["--from", "2025-03-03T01:00:00+00:00", "--to", "2025-03-03T02:00:00+00:00"]
    _, local_out, _ = run(capsys, "-c", config, *RANGE, "--format", "json")
    _, utc_out, _ = run(capsys, "-c", config, *utc, "--format", "json")
    assert json.loads(utc_out)["total"] == json.loads(local_out)["total"]


def test_text_by_default(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-c", config, *RANGE)
    assert code == 0
    assert any(line.startswith("09:30-10:00") for line in out.splitlines())
    assert "general 15 s, jobs 15 s, repairs 20 s" in out


def test_csv_to_a_file(config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "day.csv"
    code, out, _ = run(capsys, "-c", config, *RANGE, "--format", "csv", "-o", str(target))
    assert code == 0
    assert out == f"wrote {target}\n"
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows[-1]["scope"] == "total"
    assert rows[-1]["offered"] == "12"


def test_png_to_a_file(config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "sl.png"
    code, _, _ = run(capsys, "-c", config, *RANGE, "--format", "png", "--output", str(target))
    assert code == 0
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_one_queue_and_one_agent(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "-c", config, *RANGE, "--queue", "repairs", "--json")
    doc = json.loads(out)
    assert doc["filters"] == {"queue": "repairs", "agent": None}
    assert [q["queue"] for q in doc["queues"]] == ["repairs"]
    assert doc["total"]["offered"] == 4
    assert doc["total"]["service_level"] == 0.25
    _, out, _ = run(capsys, "-c", config, *RANGE, "--agent", "1002", "--json")
    doc = json.loads(out)
    assert [a["agent"] for a in doc["agents"]] == ["1002"]
    assert doc["total"]["answered"] == 3
    assert doc["total"]["occupancy"] == 0.175  # 630 / 3600


def test_interval_and_short_abandon_options(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(
        capsys, "-c", config, *RANGE, "--interval", "1h", "--short-abandon", "6", "--json"
    )
    doc = json.loads(out)
    assert len(doc["intervals"]) == 1
    assert doc["total"]["short_abandoned"] == 2  # c10's 5 s now counts as short
    assert doc["total"]["service_level"] == 0.5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "png"], "needs --output"),
        (["--interval", "7m"], "divide a day"),
        (["--interval", "2025-03-03"], "use a duration"),
        (["--from", "2025-03-03T10:00", "--to", "2025-03-03T09:00"], "must be after"),
        (["--target", "0"], "--target"),
    ],
)
def test_mistakes_are_refused_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    # Refused before the database is opened: none is set up.
    config = _dialplans(tmp_path)
    code, _, err = run(capsys, "-c", config, *RANGE, *argv)
    assert code != 0
    assert message in err


def test_help() -> None:
    with pytest.raises(SystemExit) as info:
        main(["report", "--help"])
    assert info.value.code == 0


# Parsing, with a fixed clock.

NOW = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def test_times_without_an_offset_are_the_centres_local_time() -> None:
    assert when("2025-03-03T09:00", "--from", d.ZONE, NOW) == d.START
    assert when("2025-03-03", "--from", d.ZONE, NOW) == datetime(2025, 3, 3, tzinfo=d.ZONE)
    assert when("2025-03-03T01:00Z", "--from", d.ZONE, NOW) == d.START
    assert when("8h", "--from", d.ZONE, NOW) == NOW - timedelta(hours=8)
    with pytest.raises(CliError, match="--from 'soon'"):
        when("soon", "--from", d.ZONE, NOW)


def test_intervals_are_durations() -> None:
    assert duration("30m") == timedelta(minutes=30)
    assert duration("1d") == timedelta(days=1)
    with pytest.raises(CliError, match="--interval 'half an hour'"):
        duration("half an hour")
