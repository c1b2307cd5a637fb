"""An agent's phone: registration (register.xml) and the softphone that rings, answers and talks
(agent_uas.xml), observed through its log.

``register.xml``: one-shot REGISTER answering the 401/407 challenge with ``-au/-ap``, exit 0
on 200; Contact = the agent UAS port; ``expires 0`` unregisters that contact. Contacts live
in astdb and survive an Asterisk restart until they expire: :meth:`SippAgent.stop`
unregisters (or rely on the AOR's ``remove_existing=yes``).

``agent_uas.xml``: run without ``-m``, so one process serves every call: INVITE -> 180 ->
(``answer_delay_ms``) 200 OK (PCMU, or PCMA with audio, + telephone-event/101) -> ACK -> a
100 ms tick loop: BYE after ``talk_ms`` or wait for the remote BYE, media played as built by
:func:`tests.e2e.sipp.media.media_pcaps`, ``AGENT DTMF_SENT ... slot=N`` logged at
``dtmfN_at_ms``. ``answer_delay_ms < 0`` never answers: a CANCEL gets 200 + 487. Out-of-dialog
OPTIONS (qualify) get 200. The From user and display name of every INVITE are logged
(``AGENT OFFERED from_user=... from_name=...``): chan_pjsip puts the channel's
CALLERID(num) there and CALLERID(name) in the display name.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from acd.labhost import free_media_port, free_udp_port, kill_group, udp_port_free
from tests.e2e.sipp.common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LOCAL_IP,
    SCENARIO_DIR,
    SIPP_BIN,
    SippError,
)
from tests.e2e.sipp.media import (
    AGENT_SSRC,
    DTMF_EVENTS,
    MIN_DTMF_GAP_MS,
    dtmf_len_ms,
    media_pcaps,
)
from tests.e2e.sipp.process import (
    SippRun,
    cleanup,
    common_args,
    make_workdir,
    run_sipp,
    spawn,
)
from tests.e2e.sipp.trace import hangup_open_dialogs, read_errors, read_log, read_text

# --------------------------------------------------------------------------
# registration
# --------------------------------------------------------------------------


async def register(
    number: str,
    password: str,
    contact_port: int,
    *,
    expires: int = 300,
    auth_username: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    timeout_s: float = 10.0,
    workdir: Path | None = None,
) -> SippRun:
    """REGISTER ``number`` with Contact ``sip:number@127.0.0.1:contact_port``.

    ``expires=0`` removes that contact. Returns the run; ``run.ok`` is True on
    200 OK (a wrong password gives exit 1).
    """
    args = [
        *("-key", "agent", number, "-key", "contact_port", str(contact_port)),
        *("-key", "expires", str(expires)),
        *("-au", auth_username or number, "-ap", password),
        *("-m", "1", "-l", "1", "-i", LOCAL_IP),
        f"{host}:{port}",
    ]
    run = await run_sipp(
        "register.xml", args, timeout_s=timeout_s, workdir=workdir, prefix=f"reg{number}"
    )
    if workdir is None:
        cleanup(run.workdir, run.ok)
    return run


async def unregister(number: str, password: str, contact_port: int, **kw: Any) -> SippRun:
    """REGISTER with ``Expires: 0`` for the same contact."""
    return await register(number, password, contact_port, expires=0, **kw)


# --------------------------------------------------------------------------
# the phone
# --------------------------------------------------------------------------


class AgentEventKind(StrEnum):
    """What agent_uas.xml logs, one line per event."""

    OFFERED = "OFFERED"
    ANSWERED = "ANSWERED"
    CANCELLED = "CANCELLED"
    REMOTE_BYE = "REMOTE_BYE"
    LOCAL_BYE = "LOCAL_BYE"
    OPTIONS = "OPTIONS"
    DTMF_SENT = "DTMF_SENT"


@dataclass(frozen=True)
class AgentEvent:
    kind: AgentEventKind
    call_id: str
    from_user: str | None = None
    from_name: str | None = None


_AGENT_RE = re.compile(
    r"^AGENT (?P<kind>\S+)(?: from_user=(?P<user>.*?) from_name=(?P<name>.*?))?"
    r" call_id=(?P<cid>\S+)"
)


class SippAgent:
    """An agent phone: an agent_uas.xml process plus REGISTERs pointing at it.

    ``talk_ms=None`` waits for the far end's BYE; ``never_answer`` rings until
    CANCEL. Use ``async with SippAgent(...) as agent:`` or start()/stop().

    Media, for every call the agent answers (times count from the ACK; both
    need root for sipp's raw socket):

    * ``audio=True`` answers PCMA instead of PCMU (the endpoint must allow
      alaw) and sends the g711a.pcap speech (PCMA, looped) for the whole call;
    * ``dtmf=[(at_ms, digits), ...]`` (at most two entries) sends each RFC
      2833 digit string once at ``at_ms``, digits ``dtmf_gap_ms`` apart
      (0-9 * # A-D), e.g. ``[(1000, "*7"), (3500, "*8")]``. An entry must
      start after the previous one's last packet (``at_ms + (len - 1) *
      dtmf_gap_ms + 140``). The audio pauses from 30 ms before an entry to
      200 ms after its last packet.

    The agent's workdir gets the pcaps (``timeline.pcap``: the digits and the
    audio up to the last one, sent with the pcap's own timing from the first
    packet on - within ~100 ms of the ACK or of the first ``at_ms`` without
    audio; ``ring.pcap``: the audio after that). Each entry also logs
    ``AGENT DTMF_SENT call_id=... slot=1|2`` at its ``at_ms`` tick
    (:meth:`dtmf_sent_count`, ``wait_for("DTMF_SENT")``). With both off the
    agent behaves as before: PCMU answer, no RTP sent.
    """

    def __init__(
        self,
        number: str,
        password: str,
        *,
        auth_username: str | None = None,
        answer_delay_ms: int = 500,
        talk_ms: int | None = None,
        never_answer: bool = False,
        audio: bool = False,
        dtmf: Sequence[tuple[int, str]] = (),
        dtmf_gap_ms: int = 250,
        expires: int = 300,
        register: bool = True,
        uas_port: int = 0,
        media_port: int = 0,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        workdir: Path | None = None,
    ) -> None:
        self.number = number
        self.password = password
        self.auth_username = auth_username or number
        self.answer_delay_ms = answer_delay_ms
        self.talk_ms = talk_ms
        self.never_answer = never_answer
        self.audio = audio
        self.dtmf = sorted((int(at), str(digits)) for at, digits in dtmf)
        self.dtmf_gap_ms = dtmf_gap_ms
        if len(self.dtmf) > 2:
            raise SippError(f"at most two DTMF entries, got {self.dtmf!r}")
        if dtmf_gap_ms < MIN_DTMF_GAP_MS:
            raise SippError(f"dtmf_gap_ms must be >= {MIN_DTMF_GAP_MS}")
        for i, (at, digits) in enumerate(self.dtmf):
            if at < 0 or not digits or any(d not in DTMF_EVENTS for d in digits):
                raise SippError(f"bad DTMF entry {(at, digits)!r}")
            if i and at < self.dtmf[i - 1][0] + dtmf_len_ms(self.dtmf[i - 1][1], dtmf_gap_ms):
                raise SippError(f"DTMF entries overlap: {self.dtmf!r}")
        self.expires = expires
        # False: a phone on a trunk (the callback dialer's customers), reached at a fixed
        # `uas_port` without registering.
        self.register_contact = register
        self.uas_port = uas_port
        self.media_port = media_port
        self.host, self.port = host, port
        self._workdir_arg = workdir
        self.workdir: Path | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.argv: list[str] = []
        self.last_register: SippRun | None = None
        self.registered = False
        self._final_log: list[str] | None = None
        self._final_errors: list[str] | None = None

    # -- lifecycle ---------------------------------------------------------
    async def start(self, *, timeout_s: float = 15.0) -> None:
        """Start the UAS on a free port, wait until it listens, then REGISTER.

        Raises SippError (after cleaning up) if either step fails.
        """
        if self.proc is not None:
            raise SippError("agent already started")
        try:
            await asyncio.wait_for(self._start(), timeout_s)
        except BaseException:
            await self.stop(unregister=False)
            raise

    def _media_args(self, workdir: Path) -> list[str]:
        """Build this agent's media pcaps; their -key/-set arguments."""
        media = media_pcaps(workdir, list(self.dtmf), self.dtmf_gap_ms, self.audio, AGENT_SSRC)
        slots = [at for at, _ in self.dtmf] + [-1, -1]
        return [
            *("-key", "media_pt", "8" if self.audio else "0"),
            *("-key", "media_codec", "PCMA" if self.audio else "PCMU"),
            *("-key", "media_pcap", str(media.media_pcap)),
            *("-set", "media_at_ms", str(media.media_at_ms)),
            *("-key", "ring_pcap", str(media.ring_pcap)),
            *("-set", "ring_at_ms", str(media.ring_at_ms if self.audio else -1)),
            *("-set", "ring_ms", str(media.ring_ms)),
            *("-set", "dtmf1_at_ms", str(slots[0]), "-set", "dtmf2_at_ms", str(slots[1])),
        ]

    async def _start(self) -> None:
        self.workdir = make_workdir(f"agent{self.number}", self._workdir_arg)
        self._final_log = self._final_errors = None
        self.uas_port = self.uas_port or free_udp_port()
        self.media_port = self.media_port or free_media_port()
        answer = -1 if self.never_answer else max(0, self.answer_delay_ms)
        self.argv = [
            *(SIPP_BIN, "-sf", str(SCENARIO_DIR / "agent_uas.xml")),
            *("-key", "agent", self.number, "-set", "answer_delay_ms", str(answer)),
            *("-set", "talk_ms", str(self.talk_ms or 0)),
            *self._media_args(self.workdir),
            *("-i", LOCAL_IP, "-p", str(self.uas_port), "-mp", str(self.media_port)),
            *common_args(self.workdir),
            *("-trace_msg", "-message_file", str(self.workdir / "messages.txt")),
            f"{self.host}:{self.port}",
        ]
        self.proc = await spawn(self.argv, self.workdir)
        while udp_port_free(self.uas_port):  # sipp binds it once it is up
            if self.proc.returncode is not None:
                raise SippError(
                    f"agent UAS exited rc={self.proc.returncode}: "
                    f"{read_text(self.workdir / 'stderr.txt')[-1000:]}"
                )
            await asyncio.sleep(0.05)
        if self.register_contact:
            await self.register()

    async def register(self, expires: int | None = None) -> SippRun:
        """(Re-)REGISTER the UAS contact; raises SippError unless 200 OK."""
        if self.proc is None:
            raise SippError("agent not started")
        exp = self.expires if expires is None else expires
        run = await register(
            self.number,
            self.password,
            self.uas_port,
            expires=exp,
            auth_username=self.auth_username,
            host=self.host,
            port=self.port,
        )
        self.last_register = run
        if not run.ok:
            raise SippError(f"REGISTER {self.number} (expires={exp}) failed\n{run.describe()}")
        self.registered = exp > 0
        return run

    async def unregister(self) -> SippRun:
        """REGISTER Expires: 0 for the UAS contact (keeps the UAS running)."""
        return await self.register(expires=0)

    async def stop(self, *, unregister: bool = True, timeout_s: float = 15.0) -> None:
        """Unregister (best effort) and stop the UAS; never raises on cleanup."""
        try:
            if unregister and self.registered and self.proc is not None:
                with contextlib.suppress(SippError, TimeoutError):
                    await asyncio.wait_for(self.unregister(), timeout_s / 2)
        finally:
            await self._kill(timeout_s / 2)

    async def _kill(self, grace_s: float) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            # SIGUSR1 ("quit") waits for open calls and takes seconds; the log
            # and trace files are all we read, so a hard kill is fine.
            kill_group(proc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), grace_s)
        if self.workdir is not None:  # calls still up when the UAS died
            await hangup_open_dialogs(self.workdir / "messages.txt", (self.host, self.port))
            # keep what the observation methods need, then drop the files
            # (kept with SIPP_KEEP_WORKDIRS=1, an explicit workdir, or errors)
            self._final_log = self.log_lines()
            self._final_errors = self.errors()
            if self._workdir_arg is None and not self._final_errors:
                cleanup(self.workdir, True)

    async def __aenter__(self) -> SippAgent:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- observations ------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def log_lines(self) -> list[str]:
        if self._final_log is not None:
            return self._final_log
        return read_log(self.workdir / "log.txt") if self.workdir else []

    def events(self) -> list[AgentEvent]:
        out = []
        for line in self.log_lines():
            m = _AGENT_RE.match(line)
            if m:
                out.append(AgentEvent(AgentEventKind(m["kind"]), m["cid"], m["user"], m["name"]))
        return out

    def offered_callers(self) -> list[str]:
        """From users of every INVITE received so far, in order."""
        return [e.from_user or "" for e in self.events() if e.kind == AgentEventKind.OFFERED]

    def offered_names(self) -> list[str]:
        """From display names (empty if none) of every INVITE received."""
        return [e.from_name or "" for e in self.events() if e.kind == AgentEventKind.OFFERED]

    def _count(self, kind: AgentEventKind) -> int:
        return sum(1 for e in self.events() if e.kind == kind)

    def offered_count(self) -> int:
        return self._count(AgentEventKind.OFFERED)

    def answered_count(self) -> int:
        return self._count(AgentEventKind.ANSWERED)

    def cancelled_count(self) -> int:
        return self._count(AgentEventKind.CANCELLED)

    def dtmf_sent_count(self) -> int:
        """DTMF entries sent so far (one per configured entry per answered call)."""
        return self._count(AgentEventKind.DTMF_SENT)

    def ended_count(self) -> int:
        """Answered calls that have ended (either side's BYE)."""
        return self._count(AgentEventKind.REMOTE_BYE) + self._count(AgentEventKind.LOCAL_BYE)

    def errors(self) -> list[str]:
        """sipp's unexpected-message/failure log for this agent (tick noise removed)."""
        if self._final_errors is not None:
            return self._final_errors
        return read_errors(self.workdir / "errors.txt") if self.workdir else []

    async def wait_for(
        self, kind: AgentEventKind | str, count: int = 1, *, timeout_s: float = 10.0
    ) -> list[AgentEvent]:
        """Wait until ``count`` events of ``kind`` were logged; TimeoutError otherwise."""
        kind = AgentEventKind(kind)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            evs = [e for e in self.events() if e.kind == kind]
            if len(evs) >= count:
                return evs
            if not self.running:
                raise SippError(f"agent {self.number} UAS is not running")
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"agent {self.number}: {len(evs)}/{count} {kind} events after {timeout_s}s; "
                    f"log: {self.log_lines()}"
                )
            await asyncio.sleep(0.05)
