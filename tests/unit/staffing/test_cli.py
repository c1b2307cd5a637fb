"""`acd staffing` through `acd.cli.main.main`, as ops type it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from acd.cli.main import main
from tests.unit.site import write_site
from tests.unit.staffing.records import insert_calls, local, row, spread

ISSUE = ["staffing", "--calls", "100", "--per", "30m", "--aht", "180", "--target", "80/20"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_issue_example_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *ISSUE, "--shrinkage", "30")
    assert code == 0
    assert "offered load     10.00 Erlangs" in out
    assert "agents needed    14 on the phones (Erlang C)" in out
    assert "agents scheduled 20 (shrinkage 30%)" in out
    assert "service level    88.84% answered within 20 s (target 80%)" in out
    assert "wait probability 17.41%" in out
    assert "ASA              7.8 s" in out
    assert "occupancy        71.43%" in out
    assert "abandon" not in out


def test_the_issue_example_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *ISSUE, "--shrinkage", "30", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["agents"], data["scheduled"], data["model"]) == (14, 20, "erlang-c")
    assert round(data["service_level"], 4) == 0.8884
    assert round(data["wait_probability"], 4) == 0.1741
    assert round(data["occupancy"], 4) == 0.7143
    assert data["abandon_rate"] is None
    assert (data["offered_load"], data["shrinkage"], data["target_level"]) == (10.0, 0.3, 0.8)


@pytest.mark.parametrize("per", ["30m", "1800", "1800s", "0.5h"])
def test_the_period_takes_any_duration_form(capsys: pytest.CaptureFixture[str], per: str) -> None:
    argv = [*ISSUE, "--json"]
    argv[argv.index("30m")] = per
    code, out, _ = run(capsys, *argv)
    assert code == 0 and json.loads(out)["agents"] == 14


def test_with_patience_erlang_a_reports_abandons(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *ISSUE, "--patience", "1m")
    assert code == 0
    assert "Erlang A, mean patience 60 s" in out
    assert "abandon rate" in out
    code, out, _ = run(capsys, *ISSUE, "--patience", "60", "--json")
    data = json.loads(out)
    assert data["model"] == "erlang-a" and 0 < data["abandon_rate"] < 1
    assert data["agents"] < 14  # callers who hang up shorten the queue for the others


def test_max_occupancy_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *ISSUE, "--max-occupancy", "65", "--json")
    assert json.loads(out)["agents"] == 16


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--target", "120/20"], "percentage must be above 0 and below 100"),
        (["--target", "80"], "use PERCENT/SECONDS"),
        (["--target", "80/soon"], "--target seconds 'soon'"),
        (["--calls", "-5"], "--calls must be 0 or more, not -5"),
        (["--calls", "many"], "--calls 'many': not a number"),
        (["--aht", "0"], "--aht must be above 0 seconds"),
        (["--per", "30 minutes"], "--per '30 minutes'"),
        (["--shrinkage", "100"], "--shrinkage must be below 100%"),
        (["--patience", "0"], "--patience must be above 0 seconds"),
        (["--queue", "general"], "--queue needs --from-records"),
        (["--from-records"], "--calls and --aht come from the records"),
    ],
)
def test_bad_input_says_what_is_wrong(
    capsys: pytest.CaptureFixture[str], change: list[str], message: str
) -> None:
    argv = list(ISSUE)
    if change[0] in argv:
        argv[argv.index(change[0]) + 1] = change[1]
    else:
        argv += change
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert out == ""
    assert err.startswith("acd: staffing: ") and message in err


def test_without_traffic_it_asks_for_some(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "staffing", "--target", "80/20")
    assert code == 1 and "give --calls and --aht, or --from-records" in err


# --from-records: the issue's traffic, recorded in the test site's general queue (wrap-up 10 s:
# talk 170 s makes the AHT 180 s; tests/unit/site.py), 09:00-09:30 centre time (Asia/Shanghai).


@pytest.fixture
def history(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("ACD_DATABASE_URL", db_url)
    monkeypatch.setenv("ACD_STATE_DIR", str(tmp_path / "state"))
    rows = [
        *spread("busy", local("2026-11-24T09:00"), 100, 1800),
        # 09:30-10:00: 10 calls, all abandoned: the range's AHT stands in.
        *spread("lost", local("2026-11-24T09:30"), 10, 1800, disposition="abandoned"),
        row("ivr-only", local("2026-11-24T09:40"), queue="", disposition="ivr"),
        row("repairs", local("2026-11-24T09:50"), queue="repairs", talk=600),
        row("yesterday", local("2026-11-23T09:00")),
    ]
    asyncio.run(insert_calls(db_url, rows))
    return db_url


@pytest.fixture
def records(history: str, tmp_path: Path) -> list[str]:
    """`acd staffing --from-records` on the test site, for the recorded hour."""
    return [
        "staffing",
        "--from-records",
        "-c",
        str(write_site(tmp_path / "dialplans")),
        "--from",
        "2026-11-24T09:00",  # naive: the centre's time (Asia/Shanghai)
        "--to",
        "2026-11-24T10:00",
        "--per",
        "30m",
        "--target",
        "80/20",
        "--shrinkage",
        "30",
    ]


def test_from_records_plans_each_interval(
    capsys: pytest.CaptureFixture[str], records: list[str]
) -> None:
    code, out, _ = run(capsys, *records, "--queue", "general", "--json")
    first, second = json.loads(out)
    assert code == 0
    assert (first["start"], first["end"]) == (
        "2026-11-24T09:00:00+08:00",
        "2026-11-24T09:30:00+08:00",
    )
    assert (first["calls"], first["answered"], first["aht"], first["aht_source"]) == (
        100,
        100,
        180.0,
        "interval",
    )
    assert (first["agents"], first["scheduled"]) == (14, 20)
    assert round(first["service_level"], 4) == 0.8884
    assert (second["calls"], second["aht"], second["aht_source"]) == (10, 180.0, "range")
    # 1 Erlang: 2 agents answer 1 - 1/3 e^(-20/180) = 70% within 20 s; 3 do; 3 / 0.7 -> 5.
    assert (second["agents"], second["scheduled"]) == (3, 5)


def test_from_records_all_queues_add_the_other_queues_calls(
    capsys: pytest.CaptureFixture[str], records: list[str]
) -> None:
    _, out, _ = run(capsys, *records, "--json")
    first, second = json.loads(out)
    assert (first["calls"], second["calls"]) == (100, 11)  # + repairs, never the IVR-only row
    assert (second["answered"], second["aht"]) == (1, 610.0)  # 600 talk + 10 wrap-up


def test_from_records_prints_a_table(
    capsys: pytest.CaptureFixture[str], records: list[str]
) -> None:
    code, out, _ = run(capsys, *records, "--queue", "general")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "Erlang C, target 80% within 20 s, shrinkage 30%, queue general"
    assert lines[1].split()[:2] == ["interval", "(Asia/Shanghai)"]
    assert lines[2].split()[:8] == [
        "2026-11-24", "09:00-09:30", "100", "180", "10.00", "14", "20", "88.84%"
    ]  # fmt: skip
    assert lines[3].split()[2:4] == ["10", "180*"]
    assert "peak: 20 scheduled from 2026-11-24T09:00:00+08:00" in out


def test_from_records_refuses_an_unknown_queue(
    capsys: pytest.CaptureFixture[str], records: list[str]
) -> None:
    code, _, err = run(capsys, *records, "--queue", "sales")
    assert code == 1 and "no queue 'sales' in the config" in err


def test_from_records_refuses_a_backward_range(
    capsys: pytest.CaptureFixture[str], records: list[str]
) -> None:
    argv = list(records)
    argv[argv.index("2026-11-24T10:00")] = "2026-11-24T08:00"
    code, _, err = run(capsys, *argv)
    assert code == 1 and "--to after --from" in err
