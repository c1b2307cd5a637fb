"""The `acd` command's own parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from acd.cli.common import CliError, parse_since
from acd.cli.engine import rules_text
from acd.cli.main import build_parser

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_since_takes_durations_and_iso_times() -> None:
    assert parse_since("30m", NOW) == NOW - timedelta(minutes=30)
    assert parse_since("2h", NOW) == NOW - timedelta(hours=2)
    assert parse_since("2026-11-24T08:00:00", NOW) == datetime(2026, 11, 24, 8, tzinfo=UTC)
    with pytest.raises(CliError, match="--since 'yesterday-ish'"):
        parse_since("yesterday-ish", NOW)


def test_every_data_command_takes_json_and_help() -> None:
    parser = build_parser()
    for command in ("check", "render", "status", "calls"):
        args = parser.parse_args([command, "--json"])
        assert args.json is True
    for command in ("check", "schema", "render", "run", "status", "calls", "lab", "db"):
        with pytest.raises(SystemExit) as info:
            parser.parse_args([command, "--help"])
        assert info.value.code == 0


def test_status_shows_the_rules_in_force_and_what_they_changed() -> None:
    text = "\n".join(
        rules_text(
            {
                "active": [
                    {
                        "rule": "peak-8",
                        "since": 1_700_000_000.0,
                        "metrics": {"waiting": 8.0},
                        "actions": ["suspend-callbacks", "suspend-breaks"],
                    }
                ],
                "pending": [{"rule": "peak-16", "fires_at": 1_700_001_800.0}],
                "effects": {
                    "callbacks_suspended": True,
                    "breaks_suspended": True,
                    "callback_agent_cap": 2,
                    "alerts": [],
                },
            }
        )
    )
    assert (
        "peak-8 active since" in text and "(waiting=8): suspend-callbacks, suspend-breaks" in text
    )
    assert "peak-16 holding, fires at" in text
    assert "callbacks suspended; breaks suspended; at most 2 agents on callbacks" in text
    assert rules_text({}) == ["Rules:", "  none active"]
