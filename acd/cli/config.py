"""`acd check`, `acd schema` and `acd render`: the YAML config, validated, described and
turned into Asterisk include files and prompt audio."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from acd.cli.common import Subcommands, add_command, config_of, show
from acd.config import ConfigError, load_config
from acd.config.models import Config


def register(sub: Subcommands) -> None:
    p = add_command(
        sub, "check", "Validate the YAML config; print OK or one line per error.", cmd_check
    )
    p.add_argument("dir", nargs="?", help="directory to check (default: --config)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = add_command(
        sub, "schema", "Write the JSON Schema of the config, for editors.", cmd_schema, False
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")

    p = add_command(sub, "render", "Generate Asterisk include files and prompt audio.", cmd_render)
    p.add_argument("--out", metavar="DIR", help="include files directory (default: from config)")
    p.add_argument("--json", action="store_true", help="print the files written as JSON")


def cmd_check(args: argparse.Namespace) -> int:
    directory = Path(args.dir or args.config)
    try:
        config = load_config(directory)
    except ConfigError as exc:
        if args.json:
            show({"ok": False, "errors": exc.problems}, True, "")
        else:
            for problem in exc.problems:
                print(problem)
        return 1
    missing = missing_audio(config, directory)
    if missing:
        if args.json:
            show({"ok": False, "errors": missing}, True, "")
        else:
            print("\n".join(missing))
        return 1
    show({"ok": True, "queues": len(config.queues), "agents": len(config.agents)}, args.json, "OK")
    return 0


def missing_audio(config: Config, directory: Path) -> list[str]:
    """A prompt with no rendered audio would be a silent call: report it like a config error."""
    from acd.prompts import VOICES, prompt_id

    sounds = Path(config.asterisk.sounds_dir) / "acd"
    problems = []
    for name, texts in config.prompts.items():
        for language in VOICES:
            text = getattr(texts, language)
            if text and not (sounds / f"{prompt_id(text, language)}.wav").exists():
                path, line = _prompt_line(directory, name)
                problems.append(
                    f"{path}:{line}: prompts.{name}.{language}: no audio in {sounds} "
                    "(run `acd render`)"
                )
    return problems


def _prompt_line(directory: Path, name: str) -> tuple[Path, int]:
    """Where prompt `name` is written, for an editor to jump to (the directory and 0 if no
    file has it)."""
    for path in sorted(directory.glob("*.y*ml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("prompts:")]
        if not starts:
            continue
        for number, line in enumerate(lines[starts[0] :], start=starts[0] + 1):
            if line.strip().startswith(f"{name}:"):
                return path, number
    return directory, 0


def cmd_schema(args: argparse.Namespace) -> int:
    schema = json.dumps(Config.model_json_schema(), indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(schema + "\n", encoding="utf-8")
    else:
        print(schema)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from acd.lab import render

    written = render(config_of(args), Path(args.out) if args.out else None)
    show([str(p) for p in written], args.json, "\n".join(f"wrote {p}" for p in written))
    return 0
