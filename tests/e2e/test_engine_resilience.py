"""The engine's behaviour when its surroundings are wrong: no Asterisk, a broken config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import ACD, EngineProcess, e2e_config, eventually

pytestmark = pytest.mark.e2e


def write_config(base: Path, **changes: object) -> Path:
    data = e2e_config(base)
    data["engine"]["ami"]["port"] = 5999  # nothing listens here
    data["engine"]["agi"]["port"] = 4599
    conf = base / "dialplans"
    conf.mkdir()
    (conf / "acd.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return conf


async def test_engine_without_asterisk_says_so_and_keeps_retrying(tmp_path: Path) -> None:
    engine = EngineProcess(write_config(tmp_path), tmp_path / "acd.db", tmp_path / "engine.log")
    engine.start()
    try:
        await eventually(lambda: engine.log().count("not reachable") >= 2, within=20)
        assert engine.proc is not None and engine.proc.poll() is None  # still running
        status = engine.status()
        assert status["ami_connected"] is False
        assert "Traceback" not in engine.log()
    finally:
        engine.stop()
    assert engine.proc is not None and engine.proc.returncode == 0


def test_a_broken_config_starts_nothing(tmp_path: Path) -> None:
    conf = write_config(tmp_path)
    text = (conf / "acd.yaml").read_text()
    (conf / "acd.yaml").write_text(text.replace("ring_timeout:", "ring_timout:", 1))
    result = subprocess.run(
        [ACD, "run", "-c", str(conf)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{conf / 'acd.yaml'}:") and "ring_timout" in line
    assert not (tmp_path / "state" / "run" / "acd.sock").exists()
