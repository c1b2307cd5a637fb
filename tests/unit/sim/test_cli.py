"""`acd simulate` through the real `acd` entry point; a config is the test site's
(tests/unit/site.py), written to a directory as ops would keep it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd.cli.main import main
from tests.unit.site import write_site

SHORT = ["--hours", "1", "--warmup", "10m", "--replications", "3"]


@pytest.fixture
def dialplans(tmp_path: Path) -> str:
    return str(write_site(tmp_path / "dialplans"))


def test_prints_the_figures_with_intervals_and_erlang_c(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--agents", "14", "--calls", "100", "--per", "30m", "--aht", "180"]
    assert main([*argv, "--target", "80/20", *SHORT]) == 0
    out = capsys.readouterr().out
    assert "queue general: 14 agents, 100 calls per 1800 s, AHT 180 s" in out
    assert "service level 20 s" in out and "(goal 80%:" in out
    assert "±" in out
    assert (
        "Erlang C: 14 agents, service level 88.8%, wait probability 17.4%, ASA 7.8 s, "
        "occupancy 71.4%" in out
    )
    assert "simulated calls per second" in out


def test_json_has_every_figure_with_its_interval(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--agents", "14", "--calls", "100", "--aht", "3m", "--patience", "2m"]
    assert main([*argv, *SHORT, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    results = report["results"]
    for name in ("offered", "answered", "abandoned", "service_level", "wait_probability"):
        figure = results[name]
        assert figure["low"] <= figure["mean"] <= figure["high"]
    assert 0 < results["occupancy"]["mean"] < 1
    assert results["abandoned"]["mean"] > 0
    assert report["scenario"]["patience_seconds"] == 120
    assert report["erlang"]["c"]["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert report["erlang"]["a"]["abandon_rate"] > 0
    assert report["simulator"]["simulated_calls"] > 0
    assert "independent replications" in report["method"]


def test_the_same_seed_prints_the_same_figures(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--agents", "5", "--calls", "40", "--aht", "200", *SHORT, "--json"]
    main([*argv, "--seed", "7"])
    first = json.loads(capsys.readouterr().out)["results"]
    main([*argv, "--seed", "7"])
    assert json.loads(capsys.readouterr().out)["results"] == first


def test_simulates_a_queue_of_the_config_with_its_own_agents_and_wrap_up(
    capsys: pytest.CaptureFixture[str], dialplans: str
) -> None:
    argv = ["simulate", "--config", dialplans, "--queue", "general", "--calls", "20"]
    assert main([*argv, "--aht", "240", *SHORT, "--json"]) == 0
    scenario = json.loads(capsys.readouterr().out)["scenario"]
    # The site's general queue: agents 1001, 1002 and 1004 hold housekeeping (1090 is a
    # supervisor); its wrap-up is 10 s, so talk is 230 s of the 240.
    assert scenario["agents"] == 3
    assert scenario["wrapup_seconds"] == 10
    assert scenario["talk"]["mean"] == 230


def test_agents_from_the_flag_replace_the_configs_for_a_staffing_what_if(
    capsys: pytest.CaptureFixture[str], dialplans: str
) -> None:
    argv = ["simulate", "-c", dialplans, "--agents", "6", "--calls", "20", "--aht", "240"]
    assert main([*argv, *SHORT, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"]["agents"] == 6


def test_a_profile_has_no_erlang_c_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--agents", "8", "--calls", "40,80,60", "--per", "20m", "--aht", "180"]
    assert main([*argv, *SHORT]) == 0
    out = capsys.readouterr().out
    assert "40,80,60 calls per 1200 s" in out
    assert "Erlang" not in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--aht", "180", "--target", "eighty"], "--target 'eighty'"),
        (["--aht", "5", "--wrapup", "10"], "must exceed the wrap-up"),
        (["--aht", "soon"], "--aht 'soon'"),
        (["--aht", "180", "--replications", "0"], "--replications"),
    ],
)
def test_bad_flags_are_a_usage_error(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--agents", "2", "--calls", "10", *extra]) == 2
    assert message in capsys.readouterr().err


def test_needs_agents_without_a_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--calls", "10", "--aht", "180"]) == 2
    assert "--agents" in capsys.readouterr().err


def test_an_unknown_queue_is_named(capsys: pytest.CaptureFixture[str], dialplans: str) -> None:
    argv = ["simulate", "-c", dialplans, "--queue", "nope", "--calls", "10", "--aht", "180"]
    assert main(argv) == 2
    assert "no queue 'nope'" in capsys.readouterr().err
