"""The lab for end-to-end tests: the real Asterisk root, a real engine process, SIPp phones.

Asterisk runs once per session with a test config (short ring and wrap-up times); each test gets
a fresh engine process and database, so one test's agents and records cannot leak into the
next. Nothing here skips: a missing Asterisk root is a failure, because scripts/test builds it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from acd import lab
from acd.config import load_config

PROJECT = Path(__file__).resolve().parents[2]
ACD = str(Path(sys.executable).with_name("acd"))


def e2e_config(base: Path) -> dict[str, Any]:
    """The shipped hotline with times shortened so tests run in seconds."""
    data: dict[str, Any] = {}
    for path in sorted((PROJECT / "dialplans").glob("*.yaml")):
        data.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    data["engine"]["state_dir"] = str(base / "state")
    data["asterisk"]["conf_dir"] = str(base / "generated")
    data["asterisk"]["sounds_dir"] = str(lab.lab_root() / "usr/share/asterisk/sounds")
    data["sip"]["qualify_seconds"] = 0
    # An Asterisk that stops answering is noticed within 4 s (ping every 2 s, 2 s to answer).
    data["engine"]["ami"] = {**data["engine"].get("ami", {}), "ping_interval": 2, "ping_timeout": 2}
    for queue in data["queues"]:
        queue["ring_timeout"] = 5
        queue["wrapup_seconds"] = 2
        queue["announce_every_seconds"] = 0
    # A repairs caller may go to a housekeeping agent after 4 s (skill expansion).
    repairs = next(q for q in data["queues"] if q["name"] == "repairs")
    repairs["expansion"] = [{"after_seconds": 4, "also_skills": {"housekeeping": 1}}]
    # ... and is told the agents are busy and let go after 12 s.
    repairs["max_wait_seconds"] = 12
    repairs["on_timeout"] = {"goodbye_prompt": "queue_timeout"}
    # Jobs callers hear their position and expected wait every 6 s.
    jobs = next(q for q in data["queues"] if q["name"] == "jobs")
    jobs["announce_every_seconds"] = 6
    for agent in data["agents"]:
        agent["auto_login"] = agent["number"] in {"1001", "1002"}
    # The dialer polls every second, retries after 3 s, and lets one agent do scheduled
    # callbacks at a time (the seeds' cap is 2; 1 shows it holding with two agents free).
    # The seeds' peak plan in seconds: 4 waiting for 3 s stops callbacks and breaks; it
    # stands down once nobody has waited for 1 s.
    data["rules"] = [
        {
            "name": "peak",
            "description": "compressed peak-8",
            "when": [{"metric": "waiting", "op": ">=", "value": 4}],
            "sustained_seconds": 3,
            "clear_when": [{"metric": "waiting", "op": "<=", "value": 0}],
            "clear_sustained_seconds": 1,
            "actions": [{"kind": "suspend-callbacks"}, {"kind": "suspend-breaks"}],
        }
    ]
    data["callbacks"] = {
        "poll_seconds": 1,
        "retry_gap_seconds": 3,
        "max_agents": 1,
        "ring_seconds": 4,
    }
    home = data["hotlines"][0]
    home["menus"]["main"]["timeout_seconds"] = 3
    # Tests run at any hour: the home line is always open; line 101 is always closed.
    schedule = home.pop("schedule")
    home["silence"]["wait_seconds"] = 2
    home["survey"]["timeout_seconds"] = 4
    home["menus"]["services"]["options"]["3"]["transfer"]["ring_seconds"] = 5
    today = datetime.now(UTC).date()
    closed = {**schedule, "timezone": "UTC"}
    closed["holidays"] = [str(today + timedelta(days=d)) for d in (-1, 0, 1)]
    data["hotlines"].append({**home, "name": "closed", "extension": "101", "schedule": closed})
    # Short prompts keep the calls short; the shipped texts are tested by `acd check`.
    for name, text in {
        "greeting": "您好",
        "main_menu": "请选择",
        "services_menu": "其他服务",
        "survey": "请评分",
        "survey_thanks": "谢谢",
        "silence": "请讲",
        "silence_goodbye": "再见",
        "after_hours": "下班了",
        "leave_message": "请留言",
        "recorded": "录音",
        "callback_offer": "按1回拨",
        "callback_kept": "已保留",
        "callback_unavailable": "暂不可用",
    }.items():
        data["prompts"][name]["zh"] = text
    return data


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("lab")
    conf = base / "dialplans"
    conf.mkdir()
    (conf / "acd.yaml").write_text(
        yaml.safe_dump(e2e_config(base), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    config = load_config(conf)
    root = lab.lab_root()
    assert (root / "usr/sbin/asterisk").exists(), f"no Asterisk root at {root}: run scripts/test"
    lab.up(config, restart=True)
    yield conf
    lab.stop_asterisk(root)


@pytest.fixture(scope="session")
def secrets(lab_dir: Path) -> dict[str, Any]:
    data = json.loads((lab_dir.parent / "state" / "secrets.json").read_text())
    assert isinstance(data, dict)
    return data


class EngineProcess:
    """`acd run` as a real process, driven through the real CLI."""

    def __init__(self, conf: Path, db: Path, log: Path) -> None:
        self.conf = conf
        self.env = {**os.environ, "ACD_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [ACD, "run", "-c", str(self.conf), "--log-level", "DEBUG"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=PROJECT,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cli(self, *args: str) -> Any:
        result = subprocess.run(
            [ACD, *args, "-c", str(self.conf), "--json"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"acd {' '.join(args)} failed: {result.stderr}")
        return json.loads(result.stdout)

    def status(self) -> dict[str, Any]:
        status = self.cli("status")
        assert isinstance(status, dict)
        return status

    def agent(self, number: str) -> dict[str, Any]:
        (found,) = [a for a in self.status()["agents"] if a["number"] == number]
        assert isinstance(found, dict)
        return found

    def calls(self) -> list[dict[str, Any]]:
        calls = self.cli("calls")
        assert isinstance(calls, list)
        return calls

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


async def eventually(check: Callable[[], Any], within: float = 15.0, interval: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + within
    value: Any = None
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s; last value: {value!r}")


@pytest.fixture
async def engine(lab_dir: Path, tmp_path: Path) -> AsyncIterator[EngineProcess]:
    proc = EngineProcess(lab_dir, tmp_path / "acd.db", tmp_path / "engine.log")
    proc.start()
    try:
        await eventually(lambda: connected(proc), within=30)
        yield proc
    finally:
        proc.stop()
        shutil.copy(proc.log_path, tmp_path / "engine.log.keep")


def connected(proc: EngineProcess) -> bool:
    """The engine answers its CLI and is logged in to Asterisk's AMI."""
    try:
        return bool(proc.status()["ami_connected"])
    except AssertionError:
        return False


class AsteriskLog:
    """What the lab Asterisk logged from the moment this was made: proof of what it played."""

    def __init__(self) -> None:
        self.path = lab.lab_root() / "var/log/asterisk/messages.log"
        self.start = self.path.stat().st_size

    def new(self) -> str:
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            return handle.read().decode(errors="replace")
