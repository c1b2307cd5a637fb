"""Generated Asterisk config: secure by default and faithful to the YAML."""

from __future__ import annotations

import stat
from pathlib import Path

from acd.config import load_config
from acd.privacy import mask_number
from acd.prompts import prompt_id, sound_name
from acd.render import render_all
from acd.secrets import load_secrets

PROJECT = Path(__file__).resolve().parents[2]
CONFIG = load_config(PROJECT / "dialplans")


def test_secrets_are_random_long_owner_only_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = load_secrets(path, ["1001", "1002"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first["agents"]["1001"]) >= 32
    assert first["agents"]["1001"] != first["agents"]["1002"]
    again = load_secrets(path, ["1001", "1002", "1003"])
    assert again["agents"]["1001"] == first["agents"]["1001"]  # phones stay registered
    assert "1003" in again["agents"]


def test_rendered_files_carry_agents_and_bind_loopback(tmp_path: Path) -> None:
    secrets = load_secrets(tmp_path / "secrets.json", [a.number for a in CONFIG.agents])
    written = render_all(CONFIG, tmp_path / "out", secrets)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pjsip = (tmp_path / "out" / "acd_pjsip.conf").read_text()
    assert "bind=127.0.0.1:5060" in pjsip
    assert f"password={secrets['agents']['1001']}" in pjsip
    assert "match=127.0.0.1" in pjsip
    manager = (tmp_path / "out" / "acd_manager.conf").read_text()
    assert "bindaddr=127.0.0.1" in manager and f"secret={secrets['ami_secret']}" in manager
    dialplan = (tmp_path / "out" / "acd_extensions.conf").read_text()
    assert "exten => 100,1," in dialplan
    assert "AGI(agi://127.0.0.1:4573/ivr?hotline=home)" in dialplan
    assert "[acd-fallback]" in dialplan and "Dial(PJSIP/1001&PJSIP/1002" in dialplan
    assert "PJSIP/1090" not in dialplan  # supervisors are not in the ring group


def test_static_asterisk_files_hold_no_secret_and_identify_by_username_first() -> None:
    pjsip = (PROJECT / "asterisk-conf" / "pjsip.conf").read_text()
    assert "endpoint_identifier_order=username,ip" in pjsip
    for path in (PROJECT / "asterisk-conf").glob("*.conf"):
        text = path.read_text()
        assert "secret=" not in text and "password=" not in text, path


def test_prompt_files_are_named_by_content() -> None:
    assert prompt_id("你好", "zh") == prompt_id("你好", "zh")
    assert prompt_id("你好", "zh") != prompt_id("你好!", "zh")
    assert sound_name(CONFIG, "greeting", "zh").startswith("acd/zh-")


def test_caller_numbers_are_masked_for_logs() -> None:
    assert mask_number("13800138000") == "138******00"
    assert mask_number("1234") == "****"
    assert mask_number("") == "(none)"
