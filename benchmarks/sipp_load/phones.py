"""The sipp processes of a load run: a caller sipp per batch of calls, and the agent bank
(one UAS for every agent, whose endpoints all register its contact).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from acd.labhost import free_media_port, free_udp_port, kill_group, udp_port_free
from benchmarks.sipp_load.scenarios import (
    Talk,
    agent_scenario,
    caller_scenario,
    register_scenario,
)

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
LOCAL_IP = "127.0.0.1"


class SippFailed(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# running sipp


def _argv(scenario: Path, workdir: Path, target: str, extra: Sequence[str]) -> list[str]:
    return [
        SIPP,
        "-sf",
        str(scenario),
        *extra,
        "-nostdin",
        "-i",
        LOCAL_IP,
        "-cp",
        str(free_udp_port()),
        "-trace_msg",
        "-message_file",
        str(workdir / "messages.txt"),
        "-trace_err",
        "-error_file",
        str(workdir / "errors.txt"),
        target,
    ]


def _write(workdir: Path, files: dict[str, str]) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (workdir / name).write_text(text, encoding="ascii")


def _output(workdir: Path) -> BinaryIO:
    return (workdir / "stdout.txt").open("wb")


async def _spawn(argv: list[str], workdir: Path) -> asyncio.subprocess.Process:
    with _output(workdir) as out:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )


async def run_callers(
    workdir: Path,
    target: str,
    service: str,
    caller: str,
    *,
    calls: int,
    rate: float = 10.0,
    max_ms: int = 60_000,
    timeout_s: float = 600.0,
    dtmf: Path | None = None,
) -> int:
    """`calls` callers at `rate` a second from one sipp; returns its exit code."""
    scenario = workdir / "caller.xml"
    _write(workdir, {scenario.name: caller_scenario(service, caller, max_ms, dtmf)})
    # sipp's rate is calls per period: below one a second, one call per longer period.
    per, period = (rate, 1000) if rate >= 1 else (1, round(1000 / rate))
    extra = ["-m", str(calls), "-r", f"{per:g}", "-rp", str(period), "-l", str(calls)]
    extra += ["-p", str(free_udp_port()), "-mp", str(free_media_port())]
    extra += ["-max_recv_loops", "10000", "-timeout", f"{int(timeout_s)}s"]
    proc = await _spawn(_argv(scenario, workdir, target, extra), workdir)
    try:
        return await asyncio.wait_for(proc.wait(), timeout_s + 10)
    except TimeoutError:
        return -1
    finally:
        kill_group(proc)


async def register_agents(
    workdir: Path, target: str, passwords: dict[str, str], contact_port: int, expires: int
) -> None:
    scenario, inf = workdir / "register.xml", workdir / "agents.csv"
    rows = "".join(
        f"{n};[authentication username={n} password={p}]\n" for n, p in passwords.items()
    )
    _write(
        workdir,
        {
            scenario.name: register_scenario(contact_port, expires),
            inf.name: "SEQUENTIAL\n" + rows,
        },
    )
    extra = ["-inf", str(inf), "-m", str(len(passwords)), "-r", "50", "-l", "20"]
    extra += ["-p", str(free_udp_port()), "-timeout", "60s", "-timeout_error"]
    proc = await _spawn(_argv(scenario, workdir, target, extra), workdir)
    try:
        code = await asyncio.wait_for(proc.wait(), 70)
    finally:
        kill_group(proc)
    if code != 0:
        raise SippFailed(f"registering {len(passwords)} agents failed (sipp {code}): {workdir}")


@dataclass
class AgentBank:
    """Every agent's phone in one sipp UAS; each endpoint's contact points at it."""

    workdir: Path
    target: str
    passwords: dict[str, str]
    answer_ms: int
    talk: Talk
    port: int = 0
    proc: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def trace(self) -> Path:
        return self.workdir / "messages.txt"

    async def start(self) -> None:
        scenario = self.workdir / "agent.xml"
        _write(self.workdir, {scenario.name: agent_scenario(self.answer_ms, self.talk)})
        self.port = free_udp_port()
        extra = ["-p", str(self.port), "-mp", str(free_media_port()), "-aa"]
        extra += ["-max_recv_loops", "10000"]
        self.proc = await _spawn(_argv(scenario, self.workdir, self.target, extra), self.workdir)
        while udp_port_free(self.port):
            if self.proc.returncode is not None:
                raise SippFailed(f"agent bank did not start: {self.workdir}/stdout.txt")
            await asyncio.sleep(0.05)
        await register_agents(
            self.workdir / "register", self.target, self.passwords, self.port, 3600
        )

    async def stop(self) -> None:
        with contextlib.suppress(SippFailed, TimeoutError):
            await register_agents(
                self.workdir / "unregister", self.target, self.passwords, self.port, 0
            )
        if self.proc is not None:
            kill_group(self.proc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5)
            self.proc = None
