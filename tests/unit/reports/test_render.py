"""The fixed day's report as text, CSV and JSON: shapes, and the figures where people read them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from acd.reports.compute import compute
from acd.reports.query import ReportData
from acd.reports.render import FIGURE_FIELDS, hours, to_csv, to_dict, to_json, to_text
from acd.reports.report import Report
from tests.unit.reports import dataset as d


@pytest.fixture
def report() -> Report:
    return compute(d.data(), d.spec())


def test_json_has_range_settings_and_rows_by_interval_queue_and_agent(report: Report) -> None:
    doc = json.loads(to_json(report))
    assert set(doc) == {"range", "filters", "settings", "intervals", "queues", "agents", "total"}
    assert doc["range"] == {
        "from": "2025-03-03T09:00:00+08:00",
        "to": "2025-03-03T10:00:00+08:00",
        "timezone": "Asia/Shanghai",
        "interval_seconds": 1800.0,
    }
    assert doc["settings"] == {
        "short_abandon_seconds": 5.0,
        "service_level_target": 0.8,
        "service_level_seconds": {"general": 15.0, "repairs": 20.0},
    }
    assert [i["start"] for i in doc["intervals"]] == [
        "2025-03-03T09:00:00+08:00",
        "2025-03-03T09:30:00+08:00",
    ]
    assert doc["intervals"][1]["end"] == "2025-03-03T10:00:00+08:00"
    assert [(q["queue"], q["service_level_seconds"]) for q in doc["queues"]] == [
        ("general", 15.0),
        ("repairs", 20.0),
    ]
    assert [a["agent"] for a in doc["agents"]] == ["1001", "1002"]
    assert set(doc["total"]) == set(FIGURE_FIELDS)


def test_json_rates_are_fractions_rounded_to_four_places(report: Report) -> None:
    total = to_dict(report)["total"]
    assert total["service_level"] == 0.4545  # 5 / 11
    assert total["asa_seconds"] == 15.1429  # 106 / 7
    assert total["offered"] == 12
    # Queues have no agent time: null, not 0.
    assert to_dict(report)["queues"][0]["occupancy"] is None


def test_csv_is_one_table_with_a_scope_column(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [r["scope"] for r in rows] == [
        "interval",
        "interval",
        "queue",
        "queue",
        "agent",
        "agent",
        "total",
    ]
    header = to_csv(report).splitlines()[0].split(",")
    assert header[:5] == ["scope", "start", "end", "queue", "agent"]
    assert header[5:] == list(FIGURE_FIELDS)
    first = rows[0]
    assert first["start"] == "2025-03-03T09:00:00+08:00"
    assert (first["offered"], first["service_level"], first["aht_seconds"]) == ("6", "0.4", "200.0")
    repairs = rows[3]
    assert (repairs["queue"], repairs["service_level"], repairs["occupancy"]) == (
        "repairs",
        "0.25",
        "",
    )
    assert rows[5]["agent"] == "1002"
    assert rows[5]["occupancy"] == "0.175"


def test_text_shows_percentages_seconds_and_agent_time(report: Report) -> None:
    text = to_text(report)
    assert "general 15 s, repairs 20 s" in text
    assert "target 80%" in text
    lines = text.splitlines()
    first = next(line for line in lines if line.startswith("09:00-09:30"))
    assert first.split() == [
        "09:00-09:30",
        "6",  # offered
        "3",  # answered
        "2",  # abandoned
        "1",  # short
        "40.0%",  # service level
        "16s",  # ASA
        "180s",  # talk
        "20s",  # wrap-up
        "200s",  # AHT
        "60.0%",  # answer rate
        "20.0%",  # abandon rate
        "2/1",  # callbacks made / succeeded
        "3.67",  # survey average
        "33.3%",  # dissatisfied
        "16.7%",  # occupancy
    ]
    agent = next(line for line in lines if line.startswith("1001"))
    assert "0:50:00" in agent.split()  # logged in 09:00-09:50
    assert "22.3%" in agent.split()  # 670 / 3000
    total = next(line for line in lines if line.startswith("all"))
    assert total.split()[5] == "45.5%"


def test_text_says_dash_for_figures_without_calls() -> None:
    empty = compute(ReportData((), (), (), None), d.spec())
    line = next(line for line in to_text(empty).splitlines() if line.startswith("09:00"))
    assert line.split()[1:6] == ["0", "0", "0", "0", "-"]


def test_hours_are_hours_minutes_and_seconds() -> None:
    assert hours(3000) == "0:50:00"
    assert hours(3725.4) == "1:02:05"
    assert hours(None) == "-"
