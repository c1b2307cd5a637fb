"""The secrets file: owner-only, and never written or read through a link someone planted
(whoever reads it can register as any agent's phone)."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from acd.secrets import ensure_secret, load_secrets


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_owner_only_and_keeps_what_it_generated(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = load_secrets(path, ["1001"])
    assert mode(path) == 0o600
    assert load_secrets(path, ["1001"]) == first
    assert not path.with_suffix(".tmp").exists()


def test_a_file_others_can_read_is_made_owner_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "secrets.json"
    load_secrets(path, ["1001"])
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="acd.secrets"):
        load_secrets(path, ["1001"])
    assert mode(path) == 0o600
    assert "readable by others" in caplog.text


def test_a_planted_temporary_link_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("untouched", encoding="utf-8")
    os.symlink(elsewhere, path.with_suffix(".tmp"))
    ensure_secret(path, "web_session_key")
    assert elsewhere.read_text(encoding="utf-8") == "untouched"
    assert not path.is_symlink() and "web_session_key" in json.loads(path.read_text())


def test_a_secrets_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target.json"
    target.write_text("{}", encoding="utf-8")
    path = tmp_path / "secrets.json"
    os.symlink(target, path)
    with pytest.raises(OSError):
        load_secrets(path, ["1001"])
