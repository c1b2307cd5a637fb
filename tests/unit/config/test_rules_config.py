"""dialplans/rules.yaml: the seeds' peak plan as shipped, and mistakes named by file and line.

The first two tests are about the shipped file and read it; the mistakes are made in a
rules.yaml of the test's own (RULES), next to the test site (tests/unit/site.py), so an ops
edit of the shipped plan cannot move what these tests expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config import Config, ConfigError, load_config
from tests.unit.site import write_site

SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"


# Three rules shaped like the seeds' plan: a centre-wide threshold with two actions, a second
# threshold, and a cap with its number.
RULES = """\
rules:
  - name: peak-8
    scope: "*"
    when: [{metric: waiting, op: ">=", value: 8}]
    sustained_seconds: 1800
    clear_when: [{metric: waiting, op: "<=", value: 4}]
    clear_sustained_seconds: 300
    actions:
      - {kind: suspend-callbacks}
      - {kind: suspend-breaks}
  - name: peak-16
    scope: "*"
    when: [{metric: waiting, op: ">=", value: 16}]
    sustained_seconds: 1800
    actions:
      - {kind: call-in-supervisors}
  - name: callback-cap
    scope: "*"
    when: [{metric: waiting, op: ">=", value: 1}]
    sustained_seconds: 0
    actions:
      - {kind: cap-callback-agents, value: 2}
"""


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    target = write_site(tmp_path / "dialplans")
    (target / "rules.yaml").write_text(RULES, encoding="utf-8")
    load_config(target)  # valid as written: each test below makes one mistake
    return target


def problems(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    return info.value.problems


def line_of(path: Path, needle: str, after: int = 0) -> int:
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines[after:], start=after + 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_the_shipped_rules_are_the_seeds_peak_plan() -> None:
    rules = {rule.name: rule for rule in load_config(SHIPPED).rules}
    # "8 callers waiting, sustained for 30 minutes: stop callbacks and suspend agents' breaks"
    peak_8 = rules["peak-8"]
    assert (peak_8.scope, peak_8.sustained_seconds) == ("*", 1800)
    assert [(c.metric, c.op, c.value) for c in peak_8.when] == [("waiting", ">=", 8)]
    assert [a.kind for a in peak_8.actions] == ["suspend-callbacks", "suspend-breaks"]
    # "16 waiting sustained for 30 minutes: supervisors and all agents take calls"
    peak_16 = rules["peak-16"]
    assert [(c.metric, c.op, c.value) for c in peak_16.when] == [("waiting", ">=", 16)]
    assert peak_16.sustained_seconds == 1800
    assert {"call-in-supervisors", "suspend-callbacks", "suspend-breaks", "alert"} == {
        a.kind for a in peak_16.actions
    }
    # "Predictable peaks: ... at most 2 agents on callbacks"
    (cap,) = rules["callback-cap"].actions
    assert (cap.kind, cap.value) == ("cap-callback-agents", 2)


def test_the_rules_survive_a_round_trip_through_plain_data() -> None:
    config = load_config(SHIPPED)
    assert Config.model_validate(config.model_dump()) == config


def test_a_rule_watching_an_unknown_queue(conf: Path) -> None:
    path = conf / "rules.yaml"
    path.write_text(path.read_text().replace('scope: "*"', "scope: plumbing", 1))
    (problem,) = problems(conf)
    assert problem == (
        f"{path}:{line_of(path, 'scope: plumbing')}: rules[0].scope: "
        "unknown queue 'plumbing' (or \"*\": the centre)"
    )


def test_a_rule_may_watch_one_queue(conf: Path) -> None:
    path = conf / "rules.yaml"
    path.write_text(path.read_text().replace('scope: "*"', "scope: repairs", 1))
    assert load_config(conf).rules[0].scope == "repairs"


def test_two_rules_with_one_name(conf: Path) -> None:
    path = conf / "rules.yaml"
    path.write_text(path.read_text().replace("name: peak-16", "name: peak-8"))
    (problem,) = problems(conf)
    second = line_of(path, "name: peak-8", after=line_of(path, "name: peak-8"))
    assert problem.startswith(f"{path}:{second}: rules[1].name: duplicate rule 'peak-8'")


def test_a_cap_without_its_number(conf: Path) -> None:
    path = conf / "rules.yaml"
    text = path.read_text().replace(
        "{kind: cap-callback-agents, value: 2}", "{kind: cap-callback-agents}"
    )
    path.write_text(text)
    (problem,) = problems(conf)
    line = line_of(path, "{kind: cap-callback-agents}")
    assert problem.startswith(f"{path}:{line}: rules[2].actions[0]:")
    assert "value goes with cap-callback-agents" in problem


def test_an_alert_needs_its_message(conf: Path) -> None:
    path = conf / "rules.yaml"
    path.write_text(path.read_text().replace("{kind: suspend-breaks}", "{kind: alert}", 1))
    (problem,) = problems(conf)
    line = line_of(path, "{kind: alert}")
    assert problem.startswith(f"{path}:{line}: rules[0].actions[1]:")
    assert "message goes with alert" in problem


def test_an_unknown_metric_or_comparison(conf: Path) -> None:
    path = conf / "rules.yaml"
    text = path.read_text().replace(
        '{metric: waiting, op: ">=", value: 8}', '{metric: queued, op: "=>", value: 8}'
    )
    path.write_text(text)
    found = problems(conf)
    line = line_of(path, "metric: queued")
    assert len(found) == 2
    assert found[0].startswith(f"{path}:{line}: rules[0].when[0].metric: Input should be")
    assert found[1].startswith(f"{path}:{line}: rules[0].when[0].op: Input should be")


def test_a_window_on_a_metric_that_has_none(conf: Path) -> None:
    path = conf / "rules.yaml"
    text = path.read_text().replace(
        '{metric: waiting, op: ">=", value: 8}',
        '{metric: waiting, op: ">=", value: 8, window_seconds: 600}',
    )
    path.write_text(text)
    (problem,) = problems(conf)
    assert problem.startswith(f"{path}:{line_of(path, 'window_seconds: 600')}: rules[0].when[0]:")
    assert "window_seconds applies to" in problem


def test_a_service_level_is_a_share_not_a_percentage(conf: Path) -> None:
    path = conf / "rules.yaml"
    text = path.read_text().replace(
        '{metric: waiting, op: ">=", value: 8}', '{metric: service_level, op: "<", value: 80}'
    )
    path.write_text(text)
    (problem,) = problems(conf)
    assert "service_level is a share from 0 to 1 (0.8 for 80%)" in problem


def test_negative_durations_are_refused(conf: Path) -> None:
    path = conf / "rules.yaml"
    path.write_text(
        path.read_text().replace("clear_sustained_seconds: 300", "clear_sustained_seconds: -5", 1)
    )
    (problem,) = problems(conf)
    line = line_of(path, "clear_sustained_seconds: -5")
    assert problem.startswith(f"{path}:{line}: rules[0].clear_sustained_seconds:")
