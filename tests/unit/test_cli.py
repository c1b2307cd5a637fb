"""The `acd` command's own parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from acd.cli import build_parser, parse_since

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_since_takes_durations_and_iso_times() -> None:
    assert parse_since("30m", NOW) == NOW - timedelta(minutes=30)
    assert parse_since("2h", NOW) == NOW - timedelta(hours=2)
    assert parse_since("2026-11-24T08:00:00", NOW) == datetime(2026, 11, 24, 8, tzinfo=UTC)
    with pytest.raises(SystemExit):
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
