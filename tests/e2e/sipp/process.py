"""Running sipp: one process per scenario run, its work dir, and killing it.

Process facts (SIPp 3.6.1) the helpers rely on:

* sipp binds the SIP port (``-p``), the media ports ``-mp`` and ``-mp``+2 (and their RTCP
  ports), and a control port (``-cp``, default 8888 + n): the helpers pick free ports for
  all (:mod:`acd.labhost`, shared with the benchmarks), in the Linux ephemeral range
  (32768-60999), which Asterisk's ``rtp.conf`` range (e.g. 20000-20999) must stay out of.
* Every sipp runs in its own session, so a kill takes its process group; SIGUSR1 ("quit")
  waits for open calls and takes seconds, so the helpers kill hard and send the BYEs of the
  dialogs left up themselves (:func:`tests.e2e.sipp.trace.hangup_open_dialogs`).
* Exit codes: 0 all calls ok, 1 some call failed, 97/99 internal/normal stop without
  completed calls, 255 fatal (bad scenario, port in use...).

Successful runs delete their temp dirs; failed ones keep them (path in
:meth:`SippRun.describe`), as does ``SIPP_KEEP_WORKDIRS=1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from acd.labhost import free_udp_port, kill_group
from tests.e2e.sipp.common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    KEEP_WORKDIRS,
    LOCAL_IP,
    SCENARIO_DIR,
    SIPP_BIN,
    SippError,
)
from tests.e2e.sipp.trace import (
    hangup_open_dialogs,
    read_errors,
    read_log,
    read_stats,
    read_text,
)

# --------------------------------------------------------------------------
# one sipp process
# --------------------------------------------------------------------------


@dataclass
class SippRun:
    """Outcome of one sipp process."""

    argv: list[str]
    returncode: int | None
    timed_out: bool
    workdir: Path
    stdout: str = ""
    stderr: str = ""
    log: list[str] = field(default_factory=list)  # scenario <log> lines
    errors: list[str] = field(default_factory=list)  # -trace_err, tick noise removed
    stats: dict[str, str] = field(default_factory=dict)  # last -trace_stat row

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def stat(self, name: str) -> int:
        """Cumulative counter from the stats CSV, e.g. ``stat('SuccessfulCall')``."""
        try:
            return int(float(self.stats.get(f"{name}(C)", "0") or 0))
        except ValueError:
            return 0

    def describe(self) -> str:
        """Multi-line summary for assertion messages."""
        err = "\n".join(self.errors[-10:])
        return (
            f"sipp rc={self.returncode} timed_out={self.timed_out} "
            f"workdir={self.workdir}\nargv: {' '.join(self.argv)}\n"
            f"log:\n" + "\n".join(self.log) + f"\nerrors:\n{err}\n"
            f"stderr:\n{self.stderr[-2000:]}"
        )


def common_args(workdir: Path, *, ctrl_port: int | None = None) -> list[str]:
    """The arguments every sipp gets: no stdin, a free control port, and all traces on."""
    return [
        "-nostdin",
        "-ci",
        LOCAL_IP,
        "-cp",
        str(ctrl_port or free_udp_port()),
        "-trace_logs",
        "-log_file",
        str(workdir / "log.txt"),
        "-trace_err",
        "-error_file",
        str(workdir / "errors.txt"),
        "-trace_stat",
        "-stf",
        str(workdir / "stats.csv"),
        "-trace_screen",
        "-screen_file",
        str(workdir / "screen.txt"),
    ]


def _open_outputs(workdir: Path) -> tuple[IO[bytes], IO[bytes]]:
    return open(workdir / "stdout.txt", "wb"), open(workdir / "stderr.txt", "wb")


async def spawn(argv: list[str], workdir: Path) -> asyncio.subprocess.Process:
    """Start sipp in its own session, its output in ``workdir``."""
    out, err = _open_outputs(workdir)
    with out, err:
        try:
            return await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=workdir,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise SippError(f"sipp not found: {argv[0]}") from exc


def _collect(argv: list[str], rc: int | None, timed_out: bool, workdir: Path) -> SippRun:
    return SippRun(
        argv=argv,
        returncode=rc,
        timed_out=timed_out,
        workdir=workdir,
        stdout=read_text(workdir / "stdout.txt"),
        stderr=read_text(workdir / "stderr.txt"),
        log=read_log(workdir / "log.txt"),
        errors=read_errors(workdir / "errors.txt"),
        stats=read_stats(workdir / "stats.csv"),
    )


def make_workdir(prefix: str, workdir: Path | None) -> Path:
    """``workdir`` (created), or a fresh temp dir named after ``prefix``."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return workdir
    return Path(tempfile.mkdtemp(prefix=f"sipp-{prefix}-"))


def cleanup(wd: Path, ok: bool) -> None:
    """Drop a successful run's work dir (unless ``SIPP_KEEP_WORKDIRS=1``)."""
    if ok and not KEEP_WORKDIRS:
        shutil.rmtree(wd, ignore_errors=True)


async def run_sipp(
    scenario: str,
    args: list[str],
    *,
    timeout_s: float,
    workdir: Path | None = None,
    prefix: str = "run",
    trace_msg: bool = True,
    host_port: tuple[str, int] = (DEFAULT_HOST, DEFAULT_PORT),
) -> SippRun:
    """Run one sipp process to completion (``-m`` must be in ``args``).

    sipp gets ``-timeout`` (with ``-timeout_error``) slightly below
    ``timeout_s``; if it is still alive at ``timeout_s`` (or the awaiting task
    is cancelled) its process group is killed. If sipp did not exit 0, every
    dialog its message trace shows as still established gets a BYE from the
    harness (sent to ``host_port``), so Asterisk does not keep the channel.
    """
    wd = make_workdir(prefix, workdir)
    argv = [
        SIPP_BIN,
        "-sf",
        str(SCENARIO_DIR / scenario),
        *args,
        *common_args(wd),
        "-timeout",
        f"{max(1, math.ceil(timeout_s - 1))}s",
        "-timeout_error",
    ]
    if trace_msg:
        argv += ["-trace_msg", "-message_file", str(wd / "messages.txt")]
    proc = await spawn(argv, wd)
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
    except TimeoutError:
        timed_out = True
    finally:
        if proc.returncode is None:  # timeout or cancellation
            kill_group(proc)
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                await asyncio.wait_for(proc.wait(), 5)
        # a killed (or -timeout'ed) sipp leaves its dialog up in Asterisk
        if trace_msg and proc.returncode != 0:
            await hangup_open_dialogs(wd / "messages.txt", host_port)
    return _collect(argv, proc.returncode, timed_out, wd)
