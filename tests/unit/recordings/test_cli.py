"""`acd recordings ...` and `acd reviews ...` through the `acd` parser."""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from acd.cli.common import CliError
from acd.cli.main import build_parser
from acd.records.migrate import upgrade
from tests.unit.recordings.conftest import DAY, Spool, call, dissatisfied, made, write

DIALPLANS = Path(__file__).resolve().parents[3] / "dialplans"
NOW = time.time()  # the commands read the wall clock


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Spool, str]:
    """A config dir whose spool is in tmp_path, and a database with three recorded calls."""
    config = tmp_path / "dialplans"
    shutil.copytree(DIALPLANS, config)
    spool = Spool(tmp_path / "spool")
    spool.root.mkdir()
    centre = config / "centre.yaml"
    text = centre.read_text(encoding="utf-8")
    text = text.replace(
        "spool_dir_local: .lab/root/var/spool/asterisk/acd", f"spool_dir_local: {spool.root}"
    )
    assert str(spool.root) in text
    centre.write_text(text, encoding="utf-8")

    url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    monkeypatch.setenv("ACD_DATABASE_URL", url)
    monkeypatch.setenv("ACD_STATE_DIR", str(tmp_path / "state"))
    upgrade(url)
    t1, t2, old = NOW - 3 * 3600, NOW - 600, NOW - 400 * DAY
    p1 = spool.add("c1", "2001", t1)
    p2 = spool.add("c2", "2002", t2)
    p3 = spool.add("c3", "2001", old)
    asyncio.run(
        write(
            url,
            [
                call("c1", t1, agent="2001", caller="13800138000"),
                call("c2", t2, agent="2002", caller="13900139000"),
                call("c3", old, agent="2001", caller="13700137000"),
                made("c1", p1, t1, agent="2001", caller="13800138000"),
                made("c2", p2, t2, agent="2002", caller="13900139000", status="truncated"),
                made("c3", p3, old, agent="2001", caller="13700137000"),
                dissatisfied("c1", t1 + 70),  # due an hour ago: overdue
                dissatisfied("c2", t2 + 70),  # due in almost two hours
            ],
        )
    )
    return config, spool, url


@pytest.fixture
def run(site: tuple[Path, Spool, str], capsys: pytest.CaptureFixture[str]) -> Run:
    config = site[0]

    def run(*argv: str) -> tuple[int, str, str]:
        args = build_parser().parse_args([*argv[:2], "-c", str(config), *argv[2:]])
        code = args.func(args)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.mark.parametrize(
    "argv",
    [
        ["recordings"],
        ["recordings", "find"],
        ["recordings", "export"],
        ["recordings", "purge"],
        ["recordings", "qa"],
        ["reviews"],
        ["reviews", "list"],
        ["reviews", "done"],
    ],
)
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*argv, "--help"])
    assert info.value.code == 0
    assert "usage: acd" in capsys.readouterr().out


def test_data_commands_take_json() -> None:
    parser = build_parser()
    for argv in (
        ["recordings", "find"],
        ["recordings", "export", "1", "/tmp/x"],
        ["recordings", "purge"],
        ["recordings", "qa", "1", "--score", "80", "--reviewer", "li"],
        ["reviews", "list"],
        ["reviews", "done", "1", "--note", "ok"],
    ):
        assert parser.parse_args([*argv, "--json"]).json is True


def test_a_group_alone_prints_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    for group in ("recordings", "reviews"):
        args = build_parser().parse_args([group])
        assert args.func(args) == 2
        out = capsys.readouterr().out
        assert f"usage: acd {group}" in out


def test_find_masks_callers_in_text_and_gives_both_in_json(run: Run) -> None:
    code, out, _ = run("recordings", "find")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert "13800138000" not in out and "13900139000" not in out
    assert "138******00" in lines[1] and "DISSATISFIED" in lines[1]
    assert lines[0].startswith("#2") and "truncated" in lines[0]

    code, out, _ = run("recordings", "find", "--json")
    rows = json.loads(out)
    assert [r["call_id"] for r in rows] == ["c2", "c1", "c3"]
    assert (rows[1]["caller"], rows[1]["caller_masked"]) == ("13800138000", "138******00")


def test_find_filters(run: Run) -> None:
    def ids(*argv: str) -> list[str]:
        code, out, _ = run("recordings", "find", *argv, "--json")
        assert code == 0
        return [r["call_id"] for r in json.loads(out)]

    assert ids("--agent", "2001") == ["c1", "c3"]
    assert ids("--from", "1d") == ["c2", "c1"]
    assert ids("--from", "1d", "--to", "1h") == ["c1"]
    assert ids("--caller", "13900139000") == ["c2"]
    assert ids("--queue", "support") == []
    assert ids("--flagged") == ["c2", "c1"]  # truncated; dissatisfied
    assert ids("--limit", "1") == ["c2"]
    with pytest.raises(CliError, match="--from 'soon'"):
        run("recordings", "find", "--from", "soon")


def test_export(run: Run, site: tuple[Path, Spool, str], tmp_path: Path) -> None:
    dest = tmp_path / "qa"
    dest.mkdir()
    code, out, _ = run("recordings", "export", "1", str(dest), "--json")
    assert code == 0
    done = json.loads(out)
    exported = Path(done["dest"])
    assert exported.parent == dest and exported.name.endswith("_agent2001_c1.wav")
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    code, _, err = run("recordings", "export", "1", str(dest))
    assert code == 1 and "already exists" in err
    code, _, err = run("recordings", "export", "99", str(dest))
    assert code == 1 and "no recording 99" in err


def test_purge_is_a_dry_run_unless_yes(run: Run, site: tuple[Path, Spool, str]) -> None:
    _, spool, _ = site
    old_file = next(spool.root.rglob("*_c3.wav"))
    code, out, _ = run("recordings", "purge")  # 365 days by default
    assert code == 0
    assert out.splitlines()[0].startswith("dry run: 1 recordings older than 365 days")
    assert "would-delete" in out and old_file.exists()

    code, out, _ = run("recordings", "purge", "--days", "1", "--json")
    data = json.loads(out)
    assert (data["dry_run"], data["days"]) == (True, 1)
    assert [i["id"] for i in data["items"]] == [3]

    code, out, _ = run("recordings", "purge", "--yes")
    assert code == 0 and "1 recordings older than 365 days deleted" in out
    assert not old_file.exists()
    code, out, _ = run("recordings", "find", "--agent", "2001", "--json")
    assert [r["status"] for r in json.loads(out)] == ["ok", "purged"]
    code, _, err = run("recordings", "purge", "--days", "0")
    assert code == 1 and "at least 1" in err


def test_qa_score(run: Run) -> None:
    code, out, _ = run(
        "recordings", "qa", "1", "--score", "85", "--comment", "polite", "--reviewer", "li"
    )
    assert code == 0 and "QA 85 by li" in out
    code, out, _ = run("recordings", "find", "--agent", "2001", "--json")
    row = json.loads(out)[0]
    assert (row["qa_score"], row["qa_comment"], row["qa_reviewer"]) == (85, "polite", "li")
    assert row["qa_at"] is not None
    for bad in ("0", "101"):
        code, _, err = run("recordings", "qa", "1", "--score", bad, "--reviewer", "li")
        assert code == 1 and "1..100" in err
    code, _, err = run("recordings", "qa", "42", "--score", "50", "--reviewer", "li")
    assert code == 1 and "no recording 42" in err


def test_reviews_list_and_done(run: Run) -> None:
    code, out, _ = run("reviews", "list")
    assert code == 0
    first, second = out.splitlines()
    assert "call c1" in first and "agent 2001" in first and "OVERDUE" in first
    assert "recordings #1" in first
    assert "call c2" in second and "OVERDUE" not in second
    assert "13800138000" not in out

    code, out, _ = run("reviews", "done", "1", "--note", "agent was curt", "--reviewer", "wang")
    assert code == 0 and "review 1 done" in out
    code, out, _ = run("reviews", "list", "--json")
    assert [r["call_id"] for r in json.loads(out)] == ["c2"]
    code, out, _ = run("reviews", "list", "--all", "--json")
    done = json.loads(out)[0]
    assert (done["note"], done["reviewer"], done["overdue"]) == ("agent was curt", "wang", True)

    code, _, err = run("reviews", "done", "1", "--note", "again")
    assert code == 1 and "no open review 1" in err
    code, _, err = run("reviews", "done", "2", "--note", "  ")
    assert code == 1
    code, out, _ = run("reviews", "done", "2", "--note", "fine")  # no reviewer given: allowed
    assert code == 0
    code, out, _ = run("reviews", "list")
    assert out.strip() == "no open reviews"
