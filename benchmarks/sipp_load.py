"""SIPp load for the live benchmarks: callers, a bank of agent phones, and their traces.

Scenarios are generated per run (timings are literal numbers in SIPp XML, and a `-key`
cannot go into a numeric attribute). Every sipp writes a message trace (`-trace_msg`) with
the host clock's microsecond timestamps; the figures come from those traces, so one clock
times both sides of a call (callers and agents run on the same host as Asterisk).

- Callers (UAC): INVITE from a number unique per call, then, once answered, PCMA speech
  from the first packet on (Asterisk's Answer() waits up to 500 ms for the caller's first
  media frame; a real phone sends it at once), and wait for the far end's BYE (a caller who
  is never connected hangs up after `max_ms`).
- Agents (UAS, one sipp for every agent: each endpoint registers the same contact, the
  Request-URI's user names the agent): 180 at once, 200 after `answer_ms`, PCMA speech, and
  the agent's own BYE after a fixed or an exponential talk time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
PCAP_DIR = Path(os.environ.get("SIPP_PCAP_DIR", "/usr/share/sip-tester"))
SPEECH_PCAP = PCAP_DIR / "g711a.pcap"
LOCAL_IP = "127.0.0.1"


class SippFailed(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# ports


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCAL_IP, 0))
        return int(s.getsockname()[1])


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((LOCAL_IP, port))
        except OSError:
            return False
    return True


def free_media_port() -> int:
    """An even port p with p..p+3 free: sipp binds -mp and -mp+2 (and their RTCP ports)."""
    for _ in range(200):
        port = free_udp_port() & ~1
        if port + 3 < 65536 and all(_udp_free(port + i) for i in range(4)):
            return port
    raise SippFailed("no free media port")


# --------------------------------------------------------------------------------------------
# scenarios

_SDP = """v=0
      o=bench 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP {payloads}
      {rtpmaps}a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
      a=sendrecv
"""
_PCMA_FIRST = _SDP.format(
    payloads="8 0 101", rtpmaps="a=rtpmap:8 PCMA/8000\n      a=rtpmap:0 PCMU/8000\n      "
)
_PCMA_ONLY = _SDP.format(payloads="8 101", rtpmaps="a=rtpmap:8 PCMA/8000\n      ")


def _speech() -> str:
    return (
        f'<nop><action><exec play_pcap_audio="{SPEECH_PCAP}" /></action></nop>'
        if SPEECH_PCAP.exists()
        else ""
    )


def _dtmf(pcap: Path, after_ms: int) -> str:
    play = f'<nop><action><exec play_pcap_audio="{pcap}" /></action></nop>'
    return f'<pause milliseconds="{after_ms}" />{play}'


def caller_scenario(
    service: str, caller: str, max_ms: int, dtmf: Path | None = None, dtmf_after_ms: int = 1500
) -> str:
    """`caller` may hold SIPp keywords, e.g. "130001[call_number]" (unique per call).

    With `dtmf` (an RFC 2833 pcap) the caller keys it in `dtmf_after_ms` after the answer
    (an IVR's menu choice) instead of speaking.
    """
    media = _speech() if dtmf is None else _dtmf(dtmf, dtmf_after_ms)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_caller">
  <send retrans="500"><![CDATA[

      INVITE sip:{service}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{caller}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{service}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      User-Agent: acd-bench-caller
      Content-Type: application/sdp
      Content-Length: [len]

      {_PCMA_FIRST}
    ]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="183" optional="true" />
  <recv response="200" rtd="true" rrs="true" />
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{caller}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  {media}
  <recv request="BYE" timeout="{max_ms}" ontimeout="give_up" />
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <nop next="end" />
  <label id="give_up" />
  <send retrans="500"><![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{caller}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" />
  <label id="end" />
</scenario>
"""


@dataclass(frozen=True)
class Talk:
    """The agents' talk time: `mean_ms` every call, or exponential with that mean."""

    mean_ms: int
    exponential: bool = False

    def pause(self) -> str:
        if self.exponential:
            return f'<pause distribution="exponential" mean="{self.mean_ms}" />'
        return f'<pause milliseconds="{self.mean_ms}" />'


def agent_scenario(answer_ms: int, talk: Talk) -> str:
    answer = f'<pause milliseconds="{answer_ms}" />' if answer_ms > 0 else ""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_agent">
  <recv request="INVITE" crlf="true" rrs="true" />
  <send><![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]></send>
  {answer}
  <send retrans="500"><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      {_PCMA_ONLY}
    ]]></send>
  <recv request="ACK" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="peer" />
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="me" />
    </action>
  </recv>
  {_speech()}
  {talk.pause()}
  <send retrans="500"><![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From:[$me]
      To:[$peer]
      Call-ID: [call_id]
      CSeq: 101 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" />
</scenario>
"""


def register_scenario(contact_port: int, expires: int) -> str:
    """One REGISTER per line of the injection file (`number;[authentication ...]`)."""
    request = """REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[field0]@[local_ip]:{port};transport=[transport]>
      Expires: {expires}
      {auth}Max-Forwards: 70
      Content-Length: 0
"""
    first = request.format(cseq=1, port=contact_port, expires=expires, auth="")
    # SIPp expands a whole [authentication ...] keyword held in an injection field, not
    # fields nested inside the keyword.
    auth = "[field1]\n      "
    second = request.format(cseq=2, port=contact_port, expires=expires, auth=auth)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_register">
  <send retrans="500"><![CDATA[

      {first}
    ]]></send>
  <recv response="100" optional="true" />
  <recv response="401" auth="true" optional="true" next="auth" />
  <recv response="407" auth="true" optional="true" next="auth" />
  <recv response="200" next="ok" />
  <label id="auth" />
  <send retrans="500"><![CDATA[

      {second}
    ]]></send>
  <recv response="100" optional="true" />
  <recv response="200" />
  <label id="ok" />
</scenario>
"""


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


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


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
        _kill(proc)


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
        _kill(proc)
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
        while _udp_free(self.port):
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
            _kill(self.proc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5)
            self.proc = None


# --------------------------------------------------------------------------------------------
# traces

_BLOCK = re.compile(
    r"^-{20,} (\d{4}-\d{2}-\d{2}[ \t]\d{2}:\d{2}:\d{2}\.\d+)\n"
    r"\w+ message (sent|received)[^\n]*\n\n",
    re.M,
)
_USER = re.compile(r"sips?:([^@;>\s]*)@")


@dataclass(frozen=True)
class SipMessage:
    at: float  # host clock, epoch seconds
    sent: bool
    first_line: str
    call_id: str
    cseq_method: str
    from_user: str
    ruri_user: str  # requests only

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        return self.first_line.split(" ", 1)[0] if self.is_request else ""

    @property
    def status(self) -> int:
        return 0 if self.is_request else int(self.first_line.split(" ", 2)[1])


def _header(head: str, *names: str) -> str:
    for name in names:
        m = re.search(rf"^{name}\s*:\s*(.*?)\s*$", head, re.M | re.I)
        if m:
            return m.group(1)
    return ""


def read_trace(path: Path) -> Iterator[SipMessage]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    marks = list(_BLOCK.finditer(text))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end() : end].strip("\n")
        head = body.split("\n\n", 1)[0]
        first = head.split("\n", 1)[0].strip()
        stamp = datetime.strptime(mark.group(1).replace("\t", " "), "%Y-%m-%d %H:%M:%S.%f")
        cseq = _header(head, "CSeq").split()
        ruri = _USER.search(first)
        from_m = _USER.search(_header(head, "From", "f"))
        yield SipMessage(
            at=stamp.timestamp(),
            sent=mark.group(2) == "sent",
            first_line=first,
            call_id=_header(head, "Call-ID", "i"),
            cseq_method=cseq[1] if len(cseq) > 1 else "",
            from_user=from_m.group(1) if from_m else "",
            ruri_user=ruri.group(1) if ruri and not first.startswith("SIP/2.0") else "",
        )


@dataclass
class CallerLeg:
    """One caller's dialog, from the caller's trace."""

    caller: str
    invite_at: float
    invites_sent: int = 1
    answered_at: float | None = None  # the 200 OK to the INVITE (Answer(), into the queue)
    final_status: int | None = None
    bye_received_at: float | None = None
    gave_up: bool = False


@dataclass
class AgentLeg:
    """One offer to an agent, from the agent bank's trace."""

    agent: str
    caller: str
    invite_at: float
    invites_received: int = 1
    answered_at: float | None = None  # our 200 OK
    bye_sent_at: float | None = None  # the agent hangs up: free again
    remote_bye: bool = False


def caller_legs(path: Path) -> dict[str, CallerLeg]:
    """By caller number."""
    by_call: dict[str, CallerLeg] = {}
    for msg in read_trace(path):
        leg = by_call.get(msg.call_id)
        if msg.sent and msg.method == "INVITE":
            if leg is None:
                by_call[msg.call_id] = CallerLeg(msg.from_user, msg.at)
            else:
                leg.invites_sent += 1
        elif leg is None:
            continue
        elif not msg.sent and msg.cseq_method == "INVITE" and msg.status >= 200:
            if leg.final_status is None:
                leg.final_status = msg.status
                if msg.status == 200:
                    leg.answered_at = msg.at
        elif not msg.sent and msg.method == "BYE" and leg.bye_received_at is None:
            leg.bye_received_at = msg.at
        elif msg.sent and msg.method == "BYE":
            leg.gave_up = True
    return {leg.caller: leg for leg in by_call.values()}


def agent_legs(path: Path) -> list[AgentLeg]:
    by_call: dict[str, AgentLeg] = {}
    for msg in read_trace(path):
        leg = by_call.get(msg.call_id)
        if not msg.sent and msg.method == "INVITE":
            if leg is None:
                by_call[msg.call_id] = AgentLeg(msg.ruri_user, msg.from_user, msg.at)
            else:
                leg.invites_received += 1
        elif leg is None:
            continue
        elif msg.sent and msg.cseq_method == "INVITE" and msg.status == 200:
            if leg.answered_at is None:
                leg.answered_at = msg.at
        elif msg.sent and msg.method == "BYE" and leg.bye_sent_at is None:
            leg.bye_sent_at = msg.at
        elif not msg.sent and msg.method == "BYE":
            leg.remote_bye = True
    return sorted(by_call.values(), key=lambda leg: leg.invite_at)
