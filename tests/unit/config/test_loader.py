"""`acd check`: a broken config names the file, the line and the field, and nothing starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from acd.cli.main import main
from acd.config import ConfigError, load_config
from acd.prompts import needed, prompt_id

SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    target = tmp_path / "dialplans"
    shutil.copytree(SHIPPED, target)
    # Prompt audio "rendered" into a sounds folder of the test's own.
    sounds = tmp_path / "sounds"
    centre = target / "centre.yaml"
    text = centre.read_text().replace(
        "sounds_dir: .lab/root/usr/share/asterisk/sounds", f"sounds_dir: {sounds}"
    )
    centre.write_text(text)
    (sounds / "acd").mkdir(parents=True)
    for file_id in needed(load_config(target)):
        (sounds / "acd" / f"{file_id}.wav").write_bytes(b"RIFF")
    return target


def problems(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    return info.value.problems


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_the_shipped_home_services_hotline_is_valid() -> None:
    config = load_config(SHIPPED)
    assert config.centre.name == "家政服务专线"
    assert config.hotlines[0].extension == "100"
    # The seeds: answer within 3 rings.
    assert all(q.ring_timeout == 15 for q in config.queues)
    assert "您好,家政服务专线" in (config.prompts["greeting"].zh or "")


def test_unknown_key_names_file_line_and_field(conf: Path) -> None:
    path = conf / "queues.yaml"
    path.write_text(path.read_text().replace("    ring_timeout: 15\n", "    ring_timout: 15\n", 1))
    (problem,) = problems(conf)
    assert problem.startswith(f"{path}:{line_of(path, 'ring_timout')}: queues[0].ring_timout:")
    assert "Extra inputs are not permitted" in problem


def test_duplicate_agent_is_one_clear_error(conf: Path) -> None:
    path = conf / "agents.yaml"
    path.write_text(path.read_text() + '  - {number: "1002", skills: {jobs: 1}}\n')
    (problem,) = problems(conf)
    line = line_of(path, "skills: {jobs: 1}}")
    assert problem.startswith(f"{path}:{line}:")
    assert "agents[5].number: duplicate agent 1002" in problem


def test_queue_naming_a_missing_skill(conf: Path) -> None:
    path = conf / "queues.yaml"
    path.write_text(path.read_text().replace("{repairs: 1}", "{plumbing: 1}"))
    (problem,) = problems(conf)
    line = line_of(path, "plumbing")
    assert f"{path}:{line}: queues[1].skills.plumbing: unknown skill" in problem


def test_broken_yaml_names_the_line(conf: Path) -> None:
    path = conf / "skills.yaml"
    path.write_text("skills:\n  a: [unclosed\n  b: x\n")
    (problem,) = problems(conf)
    assert problem.startswith(f"{path}:")
    assert "(yaml)" in problem


def test_duplicate_yaml_key_is_not_silently_overwritten(conf: Path) -> None:
    path = conf / "skills.yaml"
    path.write_text("skills:\n  moving: a\n  moving: b\n")
    (problem,) = problems(conf)
    assert problem.startswith(f"{path}:3: skills.moving: duplicate key")


def test_section_in_two_files(conf: Path) -> None:
    (conf / "more.yaml").write_text("skills:\n  extra: x\n")
    (problem,) = problems(conf)
    # Files load in name order, so the later skills.yaml (line 2) is the one reported.
    assert problem == (
        f"{conf / 'skills.yaml'}:2: skills: section already set in {conf / 'more.yaml'}"
    )


def test_menu_pointing_at_missing_queue_and_prompt(conf: Path) -> None:
    path = conf / "hotlines.yaml"
    text = path.read_text().replace('"3": {queue: jobs}', '"3": {queue: nowhere}')
    text = text.replace("prompt: main_menu", "prompt: no_such_prompt")
    path.write_text(text)
    found = problems(conf)
    assert any("options.3.queue: unknown queue 'nowhere'" in p for p in found)
    assert any("menus.main.prompt: unknown prompt 'no_such_prompt'" in p for p in found)


def test_acd_check_prints_ok_or_errors_and_exit_code(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(conf)]) == 0
    assert capsys.readouterr().out.strip() == "OK"
    path = conf / "agents.yaml"
    path.write_text(path.read_text() + '  - {number: "1001"}\n')
    assert main(["check", str(conf)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "duplicate agent 1001" in out[0]


def test_acd_schema_is_json_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    import json

    schema = json.loads(out.read_text())
    assert schema["additionalProperties"] is False
    assert "queues" in schema["properties"]


def test_a_prompt_without_audio_is_a_check_error(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(conf)
    text = config.prompts["greeting"].zh or ""
    sounds = Path(config.asterisk.sounds_dir) / "acd"
    (sounds / f"{prompt_id(text, 'zh')}.wav").unlink()
    assert main(["check", str(conf)]) == 1
    (line,) = capsys.readouterr().out.strip().splitlines()
    path = conf / "hotlines.yaml"
    expected = path.read_text().splitlines().index("  greeting:") + 1  # under prompts:
    assert line.startswith(f"{path}:{expected}: prompts.greeting.zh: no audio")
