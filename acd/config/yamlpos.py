"""YAML loading that remembers where every value came from.

pydantic reports errors by location (`("agents", 2, "skills")`); ops need `file:line`. We compose
the YAML node tree ourselves so each path maps to the line it was written on, and so duplicate
keys (which PyYAML silently lets the last one win) are an error instead of a lost setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]


@dataclass
class Positions:
    """Maps a value's path to the file and 1-based line where it was written."""

    lines: dict[Loc, tuple[Path, int]] = field(default_factory=dict)

    def lookup(self, loc: Loc) -> tuple[Path, int] | None:
        """The position of `loc`, or of its nearest written ancestor."""
        for end in range(len(loc), -1, -1):
            found = self.lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return None


class YamlProblem(Exception):
    """A file that is not valid YAML or repeats a key; carries its position."""

    def __init__(self, path: Path, line: int, field_name: str, message: str) -> None:
        super().__init__(f"{path}:{line}: {field_name}: {message}")
        self.path = path
        self.line = line
        self.field_name = field_name
        self.message = message


def load_positioned(path: Path, positions: Positions, prefix: Loc = ()) -> Any:
    """Parse one YAML file, record every value's line under `prefix`, return plain data."""
    text = path.read_text(encoding="utf-8")
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _walk(node, prefix, path, positions)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(path, line, "(yaml)", str(exc.problem or exc)) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(path, 1, "(yaml)", str(exc)) from exc


def _walk(node: yaml.Node, loc: Loc, path: Path, positions: Positions) -> None:
    positions.lines.setdefault(loc, (path, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlProblem(
                    path, line, _dotted((*loc, key)), f"duplicate key (first on line {seen[key]})"
                )
            seen[key] = line
            positions.lines[(*loc, key)] = (path, line)
            _walk(value_node, (*loc, key), path, positions)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), path, positions)


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


dotted = _dotted
