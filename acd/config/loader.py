"""Load `dialplans/*.yaml` into one validated `Config`, or say exactly what is wrong and where.

Ops may split the top-level sections over files as they like; a section set in two files is an
error. Every problem comes out as `file:line: field: message`, like a compiler, so `acd check`
reads like `nginx -t`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from acd.config.models import Config
from acd.config.yamlpos import Loc, Positions, YamlProblem, dotted, load_positioned


class ConfigError(Exception):
    """One or more problems, each already formatted as `file:line: field: message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_config(directory: Path) -> Config:
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError([f"{directory}:0: (dir): not a directory"])
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise ConfigError([f"{directory}:0: (dir): no *.yaml files"])
    positions = Positions()
    merged: dict[str, Any] = {}
    problems: list[str] = []
    for path in files:
        own = Positions()
        try:
            data = load_positioned(path, own)
        except YamlProblem as exc:
            problems.append(str(exc))
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{path}:1: (root): expected a mapping of sections")
            continue
        for key, value in data.items():
            line = own.lines[(key,)][1]
            if key in merged:
                first = positions.lines[(key,)][0]
                problems.append(f"{path}:{line}: {key}: section already set in {first}")
                continue
            merged[key] = value
            positions.lines.update({k: v for k, v in own.lines.items() if k[:1] == (key,)})
    if problems:
        raise ConfigError(problems)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(
            [_format(positions, tuple(err["loc"]), err["msg"], directory) for err in exc.errors()]
        ) from None
    cross = list(_cross_check(config))
    if cross:
        raise ConfigError([_format(positions, loc, msg, directory) for loc, msg in cross])
    return config


def _format(positions: Positions, loc: Loc, message: str, directory: Path) -> str:
    # pydantic puts union member names into locations ("GotoQueue"); they are not YAML keys.
    clean: Loc = tuple(p for p in loc if not (isinstance(p, str) and p[:1].isupper()))
    found = positions.lookup(clean)
    path, line = found if found else (directory, 0)
    return f"{path}:{line}: {dotted(clean)}: {message}"


def _cross_check(config: Config) -> Iterable[tuple[Loc, str]]:
    """Rules that span sections: names that must exist, numbers that must be unique."""
    seen_agents: dict[str, int] = {}
    for index, agent in enumerate(config.agents):
        if agent.number in seen_agents:
            yield (
                ("agents", index, "number"),
                f"duplicate agent {agent.number} (first is agents[{seen_agents[agent.number]}])",
            )
        seen_agents.setdefault(agent.number, index)
        for skill in agent.skills:
            if skill not in config.skills:
                yield ("agents", index, "skills", skill), f"unknown skill {skill!r}"
    queue_names: dict[str, int] = {}
    for index, queue in enumerate(config.queues):
        if queue.name in queue_names:
            yield ("queues", index, "name"), f"duplicate queue {queue.name!r}"
        queue_names.setdefault(queue.name, index)
        for skill in queue.skills:
            if skill not in config.skills:
                yield ("queues", index, "skills", skill), f"unknown skill {skill!r}"
        for step_index, step in enumerate(queue.expansion):
            loc: Loc = ("queues", index, "expansion", step_index)
            for skill in step.also_skills or {}:
                if skill not in config.skills:
                    yield (*loc, "also_skills", skill), f"unknown skill {skill!r}"
            if step.overflow is not None:
                yield from _need_queue(config, (*loc, "overflow"), step.overflow)
        announce = queue.recording.announce_prompt
        if announce is not None and announce not in config.prompts:
            yield ("queues", index, "recording", "announce_prompt"), f"unknown prompt {announce!r}"
        for field_name in ("on_timeout", "on_full", "on_empty"):
            exit_to = getattr(queue, field_name)
            if exit_to is None:
                continue
            if exit_to.queue is not None:
                yield from _need_queue(
                    config, ("queues", index, field_name, "queue"), exit_to.queue
                )
            if exit_to.goodbye_prompt is not None and exit_to.goodbye_prompt not in config.prompts:
                yield (
                    ("queues", index, field_name, "goodbye_prompt"),
                    f"unknown prompt {exit_to.goodbye_prompt!r}",
                )
    rule_names: dict[str, int] = {}
    for index, rule in enumerate(config.rules):
        if rule.name in rule_names:
            yield (
                ("rules", index, "name"),
                f"duplicate rule {rule.name!r} (first is rules[{rule_names[rule.name]}])",
            )
        rule_names.setdefault(rule.name, index)
        if rule.scope != "*" and rule.scope not in queue_names:
            yield ("rules", index, "scope"), f'unknown queue {rule.scope!r} (or "*": the centre)'
    extensions: dict[str, str] = {}
    hotline_names: set[str] = set()
    for index, hotline in enumerate(config.hotlines):
        if hotline.name in hotline_names:
            yield ("hotlines", index, "name"), f"duplicate hotline {hotline.name!r}"
        hotline_names.add(hotline.name)
        if hotline.extension in extensions:
            yield (
                ("hotlines", index, "extension"),
                f"extension {hotline.extension} already used by {extensions[hotline.extension]!r}",
            )
        extensions.setdefault(hotline.extension, hotline.name)
        if hotline.menu not in hotline.menus:
            yield ("hotlines", index, "menu"), f"unknown menu {hotline.menu!r}"
        base_loc: Loc = ("hotlines", index)
        for loc, name, value in _walk_model(hotline, base_loc):
            if name.endswith("prompt") or name == "greeting":
                if value not in config.prompts:
                    yield loc, f"unknown prompt {value!r}"
                elif getattr(config.prompts[value], hotline.language) is None:
                    yield loc, f"prompt {value!r} has no {hotline.language!r} text"
            elif name == "queue" and value not in queue_names:
                yield loc, f"unknown queue {value!r}"
            elif name == "menu" and value not in hotline.menus:
                yield loc, f"unknown menu {value!r}"


def _walk_model(node: Any, loc: Loc) -> Iterable[tuple[Loc, str, str]]:
    """Every string field under a model, with its location: for cross-reference checks."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if isinstance(value, str):
                yield (*loc, name), name, value
            else:
                yield from _walk_model(value, (*loc, name))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _walk_model(value, (*loc, key))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield from _walk_model(value, (*loc, i))


def _need_queue(config: Config, loc: Loc, name: str) -> Iterable[tuple[Loc, str]]:
    if all(q.name != name for q in config.queues):
        yield loc, f"unknown queue {name!r}"
