"""The `acd` command's own parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def test_the_shared_helpers_import_no_command_module() -> None:
    """`acd.cli.common` is a leaf: every command module imports it at the top, so an import
    of a command module (or of the parser assembly) from it would be a circle."""
    import ast

    import acd.cli.common

    tree = ast.parse(Path(acd.cli.common.__file__).read_text(encoding="utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert "acd.config" in imported  # the walk sees its imports
    assert not {name for name in imported if name == "acd.cli" or name.startswith("acd.cli.")}


def test_every_command_module_is_registered() -> None:
    """A command module left out of `acd.cli.main.COMMANDS` would be a silent no-op."""
    import acd.cli
    from acd.cli.main import COMMANDS

    modules = {
        path.stem
        for path in Path(acd.cli.__file__).parent.glob("*.py")
        if path.stem not in {"__init__", "__main__", "common", "main"}
    }
    assert {module.__name__.rpartition(".")[2] for module in COMMANDS} == modules
