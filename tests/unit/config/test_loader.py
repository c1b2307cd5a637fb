"""`acd check`: a broken config names the file, the line and the field, and nothing starts.

The mistakes are made in a small dialplans/ written here (FILES); only the first test reads
the shipped one, because it is about it: the seeds' hotline as shipped is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.cli.main import main
from acd.config import ConfigError, load_config
from acd.prompts import needed, prompt_id

SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"


# A small dialplans/ of the test's own, one section per file as ops keep them: the loader's
# reports name files and lines, so the tests below edit this text, never the shipped files
# (an ops edit there must not move the lines these tests expect).
FILES = {
    "centre.yaml": """\
centre:
  name: test centre
  timezone: Asia/Shanghai
asterisk:
  sounds_dir: {sounds}
""",
    "skills.yaml": """\
# What agents know, each at a level 1-5.
skills:
  housekeeping: home services
  repairs: repairs
  jobs: jobs
""",
    "queues.yaml": """\
queues:
  - name: general
    skills: {housekeeping: 1}
    ring_timeout: 15
  - name: repairs
    skills: {repairs: 1}
    ring_timeout: 15
  - name: jobs
    skills: {jobs: 1}
""",
    "agents.yaml": """\
agents:
  - {number: "1001", skills: {housekeeping: 5}}
  - {number: "1002", skills: {housekeeping: 3, repairs: 4}}
""",
    "hotlines.yaml": """\
hotlines:
  - name: home
    extension: "100"
    greeting: greeting
    menu: main
    menus:
      main:
        prompt: main_menu
        options:
          "1": {queue: general}
          "2": {queue: repairs}
          "3": {queue: jobs}
        fallback: {queue: general}
prompts:
  greeting:
    zh: 您好,测试专线。
    en: Hello, this is the test line.
  main_menu:
    zh: 请按1、2或3。
    en: Press 1, 2 or 3.
""",
}


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    target = tmp_path / "dialplans"
    target.mkdir()
    # Prompt audio "rendered" into a sounds folder of the test's own.
    sounds = tmp_path / "sounds"
    for name, text in FILES.items():
        (target / name).write_text(text.replace("{sounds}", str(sounds)), encoding="utf-8")
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
    assert "agents[2].number: duplicate agent 1002" in problem


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
    # Files load in name order, so the later skills.yaml is the one reported.
    path = conf / "skills.yaml"
    assert problem == (
        f"{path}:{line_of(path, 'skills:')}: skills: section already set in {conf / 'more.yaml'}"
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
