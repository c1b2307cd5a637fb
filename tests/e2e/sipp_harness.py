"""Async helpers that drive SIPp against Asterisk (PJSIP on 127.0.0.1:5060/UDP).

Scenarios (tests/e2e/sipp/, SIPp 3.6 / Debian ``sip-tester``)
--------------------------------------------------------------
``caller.xml``     UAC, one call (``-m 1``). INVITE ``sip:<service>@asterisk``
                   with From/Contact user = caller number, no auth, SDP offers
                   PCMA(8) PCMU(0) telephone-event/8000(101). After 200/ACK a
                   100 ms tick loop plays the RFC 2833 pcap once at
                   ``pre_dtmf_ms`` (``audio 0``) or - ``audio 1``, PCMA
                   speech for the whole call - ``media_pcap`` once at
                   ``media_at_ms`` (audio + the digits) and ``ring_pcap``
                   from ``ring_at_ms`` on every ``ring_ms`` (both built by
                   place_call, like SippAgent's), and ends on
                   the far end's BYE (answered 200), on our own BYE after
                   ``hangup_ms``, or - failure, exit 1 - at ``max_ms``.
                   ``-s SERVICE -key caller NUM -key dtmf_pcap FILE``
                   ``-set pre_dtmf_ms MS(-1 = none) -set hangup_ms MS(0 = wait
                   for remote BYE) -set max_ms MS -set audio 0|1
                   -key media_pcap FILE -key ring_pcap FILE
                   -set media_at_ms MS(-1 = off) -set ring_at_ms MS(-1 = off)
                   -set ring_ms MS``
``register.xml``   one-shot REGISTER, answers the 401/407 challenge with
                   ``-au/-ap``, exit 0 on 200. Contact = the agent UAS port.
                   ``-key agent NUM -key contact_port PORT -key expires S``
                   (``expires 0`` = unregister that contact).
``agent_uas.xml``  agent phone, run without ``-m`` so it serves every call.
                   INVITE -> 180 -> (answer_delay_ms) 200 OK (SDP
                   ``media_codec`` - PCMU, or PCMA with audio - +
                   telephone-event/101) -> ACK -> 100 ms tick loop: BYE after
                   talk_ms or wait for the remote BYE; ``media_pcap`` played
                   once at ``media_at_ms``, ``ring_pcap`` from ``ring_at_ms``
                   on every ``ring_ms`` (both built by SippAgent: DTMF
                   digits and PCMA audio); ``AGENT DTMF_SENT ... slot=N``
                   logged at ``dtmfN_at_ms``. ``answer_delay_ms < 0`` never
                   answers: a CANCEL gets 200 + 487 and the ACK is consumed.
                   Out-of-dialog OPTIONS (qualify) get 200. The From user and
                   display name of every INVITE are logged
                   (``AGENT OFFERED from_user=...``).
                   ``-p PORT -key agent NUM -set answer_delay_ms MS
                   -set talk_ms MS(0 = wait for remote BYE)
                   -key media_pt 0|8 -key media_codec PCMU|PCMA
                   -key media_pcap FILE -set media_at_ms MS(-1 = off)
                   -key ring_pcap FILE -set ring_at_ms MS(-1 = off)
                   -set ring_ms MS -set dtmf1_at_ms MS -set dtmf2_at_ms MS``
``agent_dial.xml`` agent softphone dialling (UAC, ``-m 1``): INVITE
                   ``sip:<service>@asterisk`` with From/Contact user = agent
                   number (PJSIP identifies the endpoint by username), ACKs
                   the 401/407, re-INVITEs with ``[authentication]``
                   (``-au/-ap``), then the same 100 ms tick loop as
                   caller.xml without audio: RFC 2833 pcap at
                   ``pre_dtmf_ms``, far end's BYE answered 200, own BYE after
                   ``hangup_ms``, ``max_ms`` = failure (exit 1). A final
                   403/404/480/486/488/500/503/603 (or 401/407 to the
                   authenticated INVITE = wrong password) is ACKed, logged
                   ``DIAL REJECTED code=NNN`` and sipp exits 97 at once.
                   ``-s SERVICE -key agent NUM -au USER -ap PASS
                   -key dtmf_pcap FILE -set pre_dtmf_ms MS(-1 = none)
                   -set hangup_ms MS(0 = wait for remote BYE) -set max_ms MS``

Every scenario writes one ``<log>`` line per event (``-trace_logs``); the
helpers parse those, plus the ``-trace_stat`` CSV, instead of the screen.

SIPp facts these scenarios rely on (checked with 3.6.1)
------------------------------------------------------
* ``-key k v`` is substituted at run time in messages/log/assignstr and,
  when the scenario is loaded, in ``play_pcap_audio="[k]"`` - but NOT in
  numeric attributes (``pause milliseconds``, ``timeout``): those take
  ``-set`` globals converted with ``<todouble>``.
* A message arriving during a ``<pause>`` is "unexpected", hence tick loops of
  ``<recv timeout=100 ontimeout=...>`` instead of pauses. Each tick is
  logged as a "receive timeout" line in the ``-trace_err`` file; the helpers
  filter those out of ``errors``. A BYE/CANCEL landing while the call sits on
  one of the loop's ``<nop>`` steps is caught by an ``optional="global"``
  recv placed (and jumped over) earlier in the scenario.
* sipp cannot be made to hang up on a signal (SIGUSR1/SIGINT only stop new
  calls). When a helper kills sipp (timeout, task cancelled, agent stopped
  mid-call) it sends the BYE itself, built from sipp's ``-trace_msg`` file.
* ``play_pcap_audio`` needs CAP_NET_RAW (raw socket, run as root); RTP leaves
  from the ``-mp`` port. sipp binds ``-mp`` and ``-mp``+2, and the control
  port (``-cp``, default 8888 + n): the helpers pick free ports for all.
  A new ``play_pcap_audio`` cancels the one still playing (one media thread
  per call); the packets keep the pcap's own payload type/SSRC/sequence
  numbers/timestamps (g711a.pcap is PCMA, payload 8: decodable only if PCMA
  was negotiated), only the UDP ports are sipp's.
* Asterisk 22 drops every RTP packet whose sequence number is older than the
  newest one of the call - also after an SSRC change - without a log line.
  So a replayed pcap is dropped as a whole (looping g711a.pcap: only its
  first 7 s arrive, and nothing after a DTMF pcap; digits after audio do
  arrive, their numbers being "newer"). agent_uas.xml and caller.xml
  therefore get pcaps built by SippAgent / place_call whose numbers only go
  forward (see there).
* Exit codes: 0 all calls ok, 1 some call failed, 97/99 internal/normal stop
  without completed calls, 255 fatal (bad scenario, port in use...).

Asterisk / pjsip.conf settings the scenarios expect
----------------------------------------------------
* ``[global] endpoint_identifier_order=username,ip,anonymous`` (or
  ``username,auth_username,ip,anonymous``) so an agent (From user = endpoint
  name) is matched before the IP-identified caller endpoint. With ``ip``
  first every REGISTER from 127.0.0.1 lands on the caller endpoint and gets
  403 ("Endpoint 'callers' has no configured AORs"). The option is applied at
  startup only: ``module reload res_pjsip.so`` shows the new value but keeps
  the old order. Caller numbers must not equal an agent endpoint name (such
  an INVITE is identified as that agent and challenged).
* callers: an endpoint (e.g. ``callers``, ``context=<ivr>``, no auth,
  ``allow=ulaw,alaw``, ``dtmf_mode=rfc4733``) plus ``type=identify``
  ``match=127.0.0.1``.
* agents: endpoint ``<num>`` with ``auth=<num>-auth`` (``auth_type=digest``,
  ``username=<num>``, ``password=...``) and ``aors=<num>`` (``type=aor``,
  ``max_contacts=1``, ``remove_existing=yes``). ``qualify_frequency`` may be
  0 or >0: the UAS answers OPTIONS.
* RTP: keep Asterisk's ``rtp.conf`` range (e.g. 20000-20999) out of the
  Linux ephemeral range (32768-60999) where these helpers pick sipp ports.
* Caller ID towards agents: chan_pjsip puts the channel's CALLERID(num) into
  the INVITE's From user and CALLERID(name) into the display name
  (``"Anonymous" <sip:anonymous@...>`` when none is set, e.g. a bare CLI
  ``channel originate PJSIP/1001 ...``).
* Contacts live in astdb and survive an Asterisk restart until they expire:
  unregister (``SippAgent.stop()`` does) or rely on ``remove_existing=yes``.
* Dialplan: ``Read()`` ends input on ``#`` by default - use ``t(...)`` to
  check a ``#`` digit. Digits sent after the ``#`` that ended one ``Read()``
  (one pcap, e.g. ``1001#123456#``) are picked up by the next ``Read()``.
* Agents dialling (agent_dial.xml): the endpoint's ``context`` must hold the
  dialled code; sipp's digest ``uri`` is ``sip:<host>:<port>`` rather than
  the Request-URI, which PJSIP accepts.

API: ``place_call()`` / ``agent_dial()`` -> :class:`CallResult`; :class:`SippAgent`
(``start/stop/register/unregister``, ``offered_callers()``,
``answered_count()``, ``dtmf_sent_count()``, ``wait_for(kind)``; options
``audio`` and ``dtmf=[(at_ms, digits), ...]``); ``register()/unregister()``;
``build_dtmf_pcap()``; ``run_sipp()`` for other scenarios. Successful runs
delete their temp dirs; failed ones keep them (path in ``SippRun.describe()``).

Environment overrides: ``SIPP_BIN``, ``SIPP_PCAP_DIR``, ``SIPP_TARGET``
(``host:port`` of Asterisk), ``SIPP_KEEP_WORKDIRS=1`` (keep temp dirs).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import math
import os
import re
import shutil
import signal
import socket
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = [
    "AgentEvent",
    "CallResult",
    "SippAgent",
    "SippError",
    "SippRun",
    "agent_dial",
    "build_dtmf_pcap",
    "dtmf_pcap_for",
    "hangup_open_dialogs",
    "place_call",
    "register",
    "run_sipp",
    "unregister",
]

SCENARIO_DIR = Path(__file__).resolve().with_name("sipp")
SIPP_BIN = os.environ.get("SIPP_BIN") or shutil.which("sipp") or "/usr/bin/sipp"
PCAP_DIR = Path(os.environ.get("SIPP_PCAP_DIR", "/usr/share/sip-tester"))
_target = os.environ.get("SIPP_TARGET", "127.0.0.1:5060")
DEFAULT_HOST, _, _port = _target.rpartition(":")
DEFAULT_PORT = int(_port)
LOCAL_IP = "127.0.0.1"
KEEP_WORKDIRS = os.environ.get("SIPP_KEEP_WORKDIRS") == "1"

#: seconds a helper waits beyond its own protocol timing before killing sipp
SAFETY_MARGIN_S = 10.0

_TICK_NOISE = re.compile(r"receive timeout on message \S+, jumping to label")
_DTMF_NAMES = {"*": "star", "#": "pound"}
_DTMF_EVENTS = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}


class SippError(RuntimeError):
    """sipp could not be started or a helper's precondition failed."""


# --------------------------------------------------------------------------
# ports
# --------------------------------------------------------------------------


def _udp_port_free(port: int, host: str = LOCAL_IP) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_udp_port(host: str = LOCAL_IP) -> int:
    """A UDP port that is free right now (the OS picks an ephemeral one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_media_port(host: str = LOCAL_IP) -> int:
    """An even port p with p..p+3 free (sipp binds -mp and -mp+2)."""
    for _ in range(200):
        p = free_udp_port(host) & ~1
        if p + 3 < 65536 and all(_udp_port_free(p + i, host) for i in range(4)):
            return p
    raise SippError("no free media port pair found")


# --------------------------------------------------------------------------
# running sipp
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


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _read_log(path: Path) -> list[str]:
    return [ln.strip() for ln in _read(path).splitlines() if ln.strip()]


def _read_errors(path: Path) -> list[str]:
    text = _read(path)
    # entries start with a timestamp "YYYY-MM-DD\tHH:MM:SS.ffffff\t..."
    parts = re.split(r"(?=\d{4}-\d{2}-\d{2}\t\d{2}:\d{2}:\d{2}\.\d+\t)", text)
    return [
        p.strip()
        for p in parts
        if p.strip()
        and not _TICK_NOISE.search(p)
        and not p.startswith("The following events occurred")
    ]


def _read_stats(path: Path) -> dict[str, str]:
    rows = list(csv.reader(_read(path).splitlines(), delimiter=";"))
    rows = [r for r in rows if r]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


def _common_args(workdir: Path, *, ctrl_port: int | None = None) -> list[str]:
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


def _kill_group(proc: asyncio.subprocess.Process, sig: int = signal.SIGKILL) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # start_new_session: pgid == pid


def _open_outputs(workdir: Path) -> tuple[IO[bytes], IO[bytes]]:
    return open(workdir / "stdout.txt", "wb"), open(workdir / "stderr.txt", "wb")


async def _spawn(argv: list[str], workdir: Path) -> asyncio.subprocess.Process:
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
        stdout=_read(workdir / "stdout.txt"),
        stderr=_read(workdir / "stderr.txt"),
        log=_read_log(workdir / "log.txt"),
        errors=_read_errors(workdir / "errors.txt"),
        stats=_read_stats(workdir / "stats.csv"),
    )


def _mkworkdir(prefix: str, workdir: Path | None) -> Path:
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return workdir
    return Path(tempfile.mkdtemp(prefix=f"sipp-{prefix}-"))


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
    wd = _mkworkdir(prefix, workdir)
    argv = [
        SIPP_BIN,
        "-sf",
        str(SCENARIO_DIR / scenario),
        *args,
        *_common_args(wd),
        "-timeout",
        f"{max(1, math.ceil(timeout_s - 1))}s",
        "-timeout_error",
    ]
    if trace_msg:
        argv += ["-trace_msg", "-message_file", str(wd / "messages.txt")]
    proc = await _spawn(argv, wd)
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
    except TimeoutError:
        timed_out = True
    finally:
        if proc.returncode is None:  # timeout or cancellation
            _kill_group(proc)
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                await asyncio.wait_for(proc.wait(), 5)
        # a killed (or -timeout'ed) sipp leaves its dialog up in Asterisk
        if trace_msg and proc.returncode != 0:
            await hangup_open_dialogs(wd / "messages.txt", host_port)
    return _collect(argv, proc.returncode, timed_out, wd)


# --------------------------------------------------------------------------
# cleaning up dialogs a killed sipp left behind
# --------------------------------------------------------------------------

_TRACE_BLOCK = re.compile(
    r"^-{20,} [^\n]*\n\w+ (?:control )?message (sent|received)[^\n]*\n\n", re.M
)


def _trace_messages(path: Path) -> list[tuple[str, str]]:
    """(direction, SIP message) pairs from a sipp ``-trace_msg`` file."""
    text = _read(path)
    marks = list(_TRACE_BLOCK.finditer(text))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((m.group(1), text[m.end() : end].strip("\n")))
    return out


def _header(msg: str, name: str) -> str | None:
    m = re.search(rf"^{name}\s*:\s*(.*?)\s*$", msg.split("\n\n", 1)[0], re.M | re.I)
    return m.group(1) if m else None


def _open_dialogs(path: Path) -> list[dict[str, str]]:
    """Dialogs with a 2xx to INVITE and no BYE yet, as BYE ingredients."""
    dialogs: dict[str, dict[str, str]] = {}
    closed: set[str] = set()
    invites: dict[str, str] = {}
    for direction, msg in _trace_messages(path):
        first = msg.split("\n", 1)[0]
        cid = _header(msg, "Call-ID") or _header(msg, "i")
        cseq = _header(msg, "CSeq") or ""
        if not cid:
            continue
        if first.startswith("INVITE "):
            invites[cid] = msg
        elif first.startswith("BYE ") or cseq.endswith(" BYE"):
            closed.add(cid)
        elif re.match(r"SIP/2\.0 2\d\d ", first) and cseq.endswith(" INVITE"):
            frm, to = _header(msg, "From"), _header(msg, "To")
            if not frm or not to:
                continue
            if direction == "received":  # we are the UAC
                contact = _header(msg, "Contact") or ""
                dialogs[cid] = {"from": frm, "to": to, "contact": contact}
            else:  # we are the UAS: swap, target = the INVITE's Contact
                contact = _header(invites.get(cid, ""), "Contact") or ""
                dialogs[cid] = {"from": to, "to": frm, "contact": contact}
    out = []
    for cid, d in dialogs.items():
        m = re.search(r"<?(sips?:[^>;\s]+)", d["contact"])
        if cid not in closed and m:
            out.append({**d, "call_id": cid, "ruri": m.group(1)})
    return out


def _send_byes(dialogs: list[dict[str, str]], host: str, port: int) -> int:
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCAL_IP, 0))
        s.settimeout(1.0)
        lport = s.getsockname()[1]
        for n, d in enumerate(dialogs):
            msg = (
                f"BYE {d['ruri']} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {LOCAL_IP}:{lport};branch=z9hG4bK-harness-{os.getpid()}-{n}"
                f"-{os.urandom(4).hex()};rport\r\n"
                f"From: {d['from']}\r\nTo: {d['to']}\r\nCall-ID: {d['call_id']}\r\n"
                f"CSeq: 9999 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )
            s.sendto(msg.encode(), (host, port))
            with contextlib.suppress(OSError):
                if s.recv(4096).startswith(b"SIP/2.0 "):
                    answered += 1
    return answered


async def hangup_open_dialogs(trace: Path, host_port: tuple[str, int]) -> int:
    """BYE every dialog that sipp's message trace shows as still up.

    Best effort, for after sipp was killed; returns how many BYEs got an
    answer.
    """
    dialogs = _open_dialogs(trace)
    if not dialogs:
        return 0
    return await asyncio.to_thread(_send_byes, dialogs, *host_port)


# --------------------------------------------------------------------------
# DTMF pcaps
# --------------------------------------------------------------------------


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _read_pcap(path: Path) -> tuple[bytes, list[tuple[float, bytes]]]:
    data = path.read_bytes()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        raise SippError(f"{path}: only little-endian microsecond pcaps are supported")
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack("<IIII", data[off : off + 16])
        pkts.append((sec + usec / 1e6, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return data[:24], pkts


def dtmf_pcap_for(digit: str) -> Path:
    """The stock sip-tester pcap for one digit (0-9, * or #)."""
    if digit not in _DTMF_EVENTS or digit in "ABCD":
        raise SippError(f"no stock RFC 2833 pcap for digit {digit!r}")
    return PCAP_DIR / f"dtmf_2833_{_DTMF_NAMES.get(digit, digit)}.pcap"


def build_dtmf_pcap(digits: str, out: Path, *, gap_ms: int = 250) -> Path:
    """Write an RFC 2833 pcap that sends ``digits`` one after another.

    Each digit is the stock ``dtmf_2833_1.pcap`` event (8 packets, ~140 ms,
    end packet sent 3x) with its event code replaced; digits start ``gap_ms``
    apart and get increasing RTP sequence numbers and timestamps, so the
    receiver sees distinct events. Accepts 0-9 * # A-D.
    """
    if not digits or any(d not in _DTMF_EVENTS for d in digits):
        raise SippError(f"bad DTMF string {digits!r}")
    header, tmpl = _read_pcap(dtmf_pcap_for("1"))
    t0 = tmpl[0][0]
    seq, records = 1000, []
    for i, digit in enumerate(digits):
        prev_seq = None
        for t, pkt in tmpl:
            eth, ip = pkt[:14], bytearray(pkt[14:])
            ihl = (ip[0] & 0x0F) * 4
            udp, rtp = bytearray(ip[ihl : ihl + 8]), bytearray(ip[ihl + 8 :])
            orig_seq = struct.unpack("!H", rtp[2:4])[0]
            if prev_seq is not None and orig_seq != prev_seq:
                seq += 1
            prev_seq = orig_seq
            struct.pack_into("!HI", rtp, 2, seq & 0xFFFF, (8000 + i * gap_ms * 8) & 0xFFFFFFFF)
            rtp[12] = _DTMF_EVENTS[digit]
            struct.pack_into("!H", udp, 6, 0)
            pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 17, len(udp) + len(rtp))
            struct.pack_into("!H", udp, 6, _csum(pseudo + bytes(udp) + bytes(rtp)) or 0xFFFF)
            struct.pack_into("!H", ip, 10, 0)
            struct.pack_into("!H", ip, 10, _csum(bytes(ip[:ihl])))
            frame = eth + bytes(ip[:ihl]) + bytes(udp) + bytes(rtp)
            ts = t0 + i * gap_ms / 1000 + (t - t0)
            sec = int(ts)
            usec = round((ts - sec) * 1e6)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            records.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
        seq += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(header + b"".join(records))
    return out


def _dtmf_pcap(dtmf: str | None, workdir: Path, gap_ms: int = 250) -> Path:
    if not dtmf:
        return dtmf_pcap_for("1")  # must exist even when unused
    if len(dtmf) == 1 and dtmf not in "ABCD":
        return dtmf_pcap_for(dtmf)
    return build_dtmf_pcap(dtmf, workdir / "dtmf.pcap", gap_ms=gap_ms)


# --------------------------------------------------------------------------
# caller
# --------------------------------------------------------------------------


@dataclass
class CallResult:
    """Outcome of :func:`place_call` or :func:`agent_dial`."""

    run: SippRun
    answered: bool
    dtmf_sent: bool
    ended_by: str | None  # "remote" (their BYE), "local" (our BYE), "max_time", None
    rejected: int | None = None  # agent_dial only: final error code (403, 404, 486...)

    @property
    def returncode(self) -> int | None:
        return self.run.returncode

    @property
    def ok(self) -> bool:
        """sipp exit 0 and the call ended by a BYE (either side)."""
        return self.run.ok and self.ended_by in ("remote", "local")

    @property
    def stdout(self) -> str:
        return self.run.stdout

    @property
    def stderr(self) -> str:
        return self.run.stderr

    @property
    def stats(self) -> dict[str, str]:
        return self.run.stats


async def place_call(
    service: str,
    caller: str,
    *,
    dtmf: str | None = "1",
    pre_dtmf_ms: int = 1500,
    dtmf_gap_ms: int = 250,
    hangup_after_ms: int | None = None,
    max_ms: int = 60000,
    audio: bool = False,
    local_port: int = 0,
    media_port: int = 0,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    setup_timeout_ms: int = 10000,
    workdir: Path | None = None,
) -> CallResult:
    """Call ``service`` from ``caller`` with caller.xml and wait for the end.

    ``dtmf``: digits sent once, ``pre_dtmf_ms`` after the ACK (None/"" = none;
    several digits are sent ``dtmf_gap_ms`` apart). ``hangup_after_ms``: we
    hang up that long after the ACK; None = wait for the far end's BYE, for
    at most ``max_ms`` after the ACK (then the call fails:
    ``ended_by="max_time"``). ``audio`` sends PCMA speech (g711a.pcap, looped;
    needs PCMA negotiated - the offer lists it first) for the whole call,
    also after the digits: the workdir gets ``timeline.pcap`` (audio from the
    ACK on with the digits at ``pre_dtmf_ms``, the audio paused from 30 ms
    before them to 200 ms after) and ``ring.pcap`` (the audio after that,
    replayed every 7.68 s), with sequence numbers that only go forward (see
    :func:`_caller_media`); ``dtmf_gap_ms`` must then be >= 160. Without
    ``audio`` only the DTMF pcap is sent. ``local_port``/``media_port`` 0 =
    pick free ones. The whole helper is bounded by setup_timeout_ms + max_ms
    + margin.
    """
    wd = _mkworkdir("caller", workdir)
    talk_ms = max_ms if hangup_after_ms is None else min(max_ms, hangup_after_ms + 5000)
    spare = str(dtmf_pcap_for("1"))  # -key pcaps must exist even when unused
    media_args = ["-key", "media_pcap", spare, "-key", "ring_pcap", spare]
    media_args += ["-set", "media_at_ms", "-1", "-set", "ring_at_ms", "-1", "-set", "ring_ms", "0"]
    if audio:
        m_pcap, m_at, r_pcap, r_at, r_ms = _caller_media(wd, dtmf, pre_dtmf_ms, dtmf_gap_ms)
        media_args = ["-key", "media_pcap", str(m_pcap), "-key", "ring_pcap", str(r_pcap)]
        media_args += ["-set", "media_at_ms", str(m_at), "-set", "ring_at_ms", str(r_at)]
        media_args += ["-set", "ring_ms", str(r_ms)]
    args = [
        "-s",
        service,
        "-key",
        "caller",
        caller,
        "-key",
        "dtmf_pcap",
        spare if audio else str(_dtmf_pcap(dtmf, wd, dtmf_gap_ms)),
        "-set",
        "pre_dtmf_ms",
        str(pre_dtmf_ms if dtmf else -1),
        "-set",
        "hangup_ms",
        str(hangup_after_ms if hangup_after_ms else 0),
        "-set",
        "max_ms",
        str(talk_ms),
        "-set",
        "audio",
        "1" if audio else "0",
        *media_args,
        "-m",
        "1",
        "-l",
        "1",
        "-i",
        LOCAL_IP,
        "-p",
        str(local_port or free_udp_port()),
        "-mp",
        str(media_port or free_media_port()),
        f"{host}:{port}",
    ]
    timeout_s = (setup_timeout_ms + talk_ms) / 1000 + SAFETY_MARGIN_S
    run = await run_sipp(
        "caller.xml", args, timeout_s=timeout_s, workdir=wd, prefix="caller", host_port=(host, port)
    )
    events = [ln.split()[1] for ln in run.log if ln.startswith("CALLER ")]
    ended_by = None
    for name, value in (("REMOTE_BYE", "remote"), ("LOCAL_BYE", "local"), ("MAX_TIME", "max_time")):
        if name in events:
            ended_by = value
    result = CallResult(
        run=run, answered="ANSWERED" in events, dtmf_sent="DTMF_SENT" in events, ended_by=ended_by
    )
    _cleanup(wd, result.ok and workdir is None)
    return result


#: RTP SSRC of the caller's media (the agent phone uses SippAgent._SSRC)
_CALLER_SSRC = 0x5A6E7A02


def _caller_media(
    workdir: Path, dtmf: str | None, pre_dtmf_ms: int, gap_ms: int
) -> tuple[Path, int, Path, int, int]:
    """The pcaps for ``place_call(audio=True)``: see :func:`_media_pcaps`.

    Returns (media_pcap, media_at_ms, ring_pcap, ring_at_ms, ring_ms).
    """
    if gap_ms < SippAgent._DTMF_EVENT_MS + 20:
        raise SippError(f"dtmf_gap_ms must be >= {SippAgent._DTMF_EVENT_MS + 20} with audio")
    if dtmf and any(d not in _DTMF_EVENTS for d in dtmf):
        raise SippError(f"bad DTMF string {dtmf!r}")
    entries = [(pre_dtmf_ms, dtmf)] if dtmf and pre_dtmf_ms >= 0 else []
    media, media_at, ring, ring_at, ring_ms = _media_pcaps(
        workdir, entries, gap_ms, True, _CALLER_SSRC
    )
    return Path(media), media_at, Path(ring), ring_at, ring_ms


def _media_pcaps(
    workdir: Path, entries: list[tuple[int, str]], gap_ms: int, audio: bool, ssrc: int
) -> tuple[str, int, str, int, int]:
    """Build a phone's media pcaps in ``workdir``; shared by callers and agents.

    Asterisk drops RTP whose sequence number goes back (also across an SSRC
    change), so a call's packets must only go forward. ``timeline.pcap``:
    each entry's digits at ``at_ms`` (+ i * gap_ms) and, with ``audio``,
    PCMA every 30 ms from the ACK on, paused from 30 ms before an entry to
    200 ms after its last packet; played once at its first packet's time.
    ``ring.pcap`` (``audio``): the audio after that, 256 packets whose
    sequence numbers step by 256 so each replay (every 7.68 s) continues the
    sequence. The audio is g711a.pcap's speech (its leading 0.6 s of digital
    silence left out: looped, it gave up to 1.2 s of silence in a row). One
    SSRC, one UDP port pair, RTP timestamps = 8 * ms since the ACK.

    Returns (media_pcap, media_at_ms, ring_pcap, ring_at_ms, ring_ms); an
    unused pcap is a spare stock one and its time -1.
    """
    ag = SippAgent
    header, stock = _read_pcap(PCAP_DIR / "g711a.pcap")
    _, event = _read_pcap(dtmf_pcap_for("1"))
    template = stock[0][1]
    pcma = [ag._rtp_of(f) for _, f in stock]
    pcma = pcma[next(i for i, p in enumerate(pcma) if set(p[12:]) - {0x55, 0xD5}) :]
    ptime = ag._PTIME_MS
    # (ms since the ACK, same sequence number as the previous packet?, RTP)
    timeline: list[tuple[float, bool, bytearray]] = []
    pauses: list[tuple[int, int]] = []
    for at, digits in entries:
        for i, digit in enumerate(digits):
            start = at + i * gap_ms
            prev_seq = None
            for t, frame in event:  # marker on the first packet, as in the template
                rtp = bytearray(ag._rtp_of(frame))
                seq = struct.unpack_from("!H", rtp, 2)[0]
                rtp[12] = _DTMF_EVENTS[digit]
                struct.pack_into("!I", rtp, 4, start * 8)
                # the end packet's repeats keep its sequence number
                timeline.append((start + (t - event[0][0]) * 1000, seq == prev_seq, rtp))
                prev_seq = seq
        last = at + (len(digits) - 1) * gap_ms + ag._DTMF_EVENT_MS
        pauses.append((at - ptime, last + ag._AUDIO_RESUME_MS))
    ring_at = max((end for _, end in pauses), default=0)
    n, talkspurt = 0, False
    while audio and n * ptime < ring_at:
        t = n * ptime
        paused = any(lo <= t < hi for lo, hi in pauses)
        if not paused:
            rtp = bytearray(pcma[n % len(pcma)])
            rtp[1] = (rtp[1] & 0x7F) | (0 if talkspurt else 0x80)
            struct.pack_into("!I", rtp, 4, t * 8)
            timeline.append((t, False, rtp))
        talkspurt = not paused
        n += 1
    timeline.sort(key=lambda p: p[0])  # stable: an event's packets keep their order
    seq, records = 999, []
    for t, repeat, rtp in timeline:
        seq += 0 if repeat else 1
        struct.pack_into("!H", rtp, 2, seq & 0xFFFF)
        struct.pack_into("!I", rtp, 8, ssrc)
        records.append(ag._pcap_record((t - timeline[0][0]) / 1000, template, bytes(rtp)))
    spare = str(dtmf_pcap_for("1"))  # a -key pcap must exist even when unused
    media_pcap, media_at = spare, -1
    if records:
        media_pcap, media_at = str(workdir / "timeline.pcap"), round(timeline[0][0])
        Path(media_pcap).write_bytes(header + b"".join(records))
    ring_pcap, ring_ms = spare, ag._RING_PACKETS * ptime
    if audio:
        step = 65536 // ag._RING_PACKETS
        records = []
        for i in range(ag._RING_PACKETS):
            rtp = bytearray(pcma[(n + i) % len(pcma)])
            rtp[1] = (rtp[1] & 0x7F) | (0x80 if i == 0 else 0)
            ts = (ring_at + i * ptime) * 8
            struct.pack_into("!HII", rtp, 2, (seq + 1 + i * step) & 0xFFFF, ts, ssrc)
            records.append(ag._pcap_record(i * ptime / 1000, template, bytes(rtp)))
        ring_pcap = str(workdir / "ring.pcap")
        Path(ring_pcap).write_bytes(header + b"".join(records))
    return media_pcap, media_at, ring_pcap, ring_at, ring_ms


def _cleanup(wd: Path, ok: bool) -> None:
    if ok and not KEEP_WORKDIRS:
        shutil.rmtree(wd, ignore_errors=True)


# --------------------------------------------------------------------------
# agent dialling out (feature codes)
# --------------------------------------------------------------------------

_REJECTED_RE = re.compile(r"^DIAL REJECTED code=(\d+)")


async def agent_dial(
    number: str,
    password: str,
    service: str,
    *,
    dtmf: str | None = None,
    pre_dtmf_ms: int = 1000,
    hangup_after_ms: int | None = None,
    max_ms: int = 20000,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workdir: Path | None = None,
    setup_timeout_ms: int = 10000,
) -> CallResult:
    """Agent ``number`` dials ``service`` (e.g. a feature code ``*41``).

    Runs agent_dial.xml: INVITE with From user ``number`` (the PJSIP
    endpoint name), digest auth with ``number``/``password`` after the
    401/407, and after the answer the same timing as :func:`place_call`:
    ``dtmf`` sent once ``pre_dtmf_ms`` after the ACK (None/"" = none; several
    digits, e.g. ``"1001#123456#"``, go in one pcap 250 ms apart),
    ``hangup_after_ms`` = we hang up then, None = wait for the far end's BYE
    for at most ``max_ms`` (then ``ended_by="max_time"``, a failure). No
    registration is needed (and none is made). The agent's media comes from
    a free port; nothing listens for calls to the agent.

    A final error response (403/404/480/486/488/500/503/603, or 401/407 to
    the authenticated INVITE = wrong password) sets ``rejected`` to the code
    (``answered`` False, ``ended_by`` None, sipp exit 97, ``ok`` False).
    The whole helper is bounded by setup_timeout_ms + max_ms + margin.
    """
    wd = _mkworkdir(f"dial{number}", workdir)
    talk_ms = max_ms if hangup_after_ms is None else min(max_ms, hangup_after_ms + 5000)
    args = [
        "-s",
        service,
        "-key",
        "agent",
        number,
        "-au",
        number,
        "-ap",
        password,
        "-key",
        "dtmf_pcap",
        str(_dtmf_pcap(dtmf, wd)),
        "-set",
        "pre_dtmf_ms",
        str(pre_dtmf_ms if dtmf else -1),
        "-set",
        "hangup_ms",
        str(hangup_after_ms if hangup_after_ms else 0),
        "-set",
        "max_ms",
        str(talk_ms),
        "-m",
        "1",
        "-l",
        "1",
        "-i",
        LOCAL_IP,
        "-p",
        str(free_udp_port()),
        "-mp",
        str(free_media_port()),
        f"{host}:{port}",
    ]
    timeout_s = (setup_timeout_ms + talk_ms) / 1000 + SAFETY_MARGIN_S
    run = await run_sipp(
        "agent_dial.xml",
        args,
        timeout_s=timeout_s,
        workdir=wd,
        prefix=f"dial{number}",
        host_port=(host, port),
    )
    events = [ln.split()[1] for ln in run.log if ln.startswith("DIAL ") and len(ln.split()) > 1]
    ended_by = None
    for name, value in (("REMOTE_BYE", "remote"), ("LOCAL_BYE", "local"), ("MAX_TIME", "max_time")):
        if name in events:
            ended_by = value
    rejected = None
    for ln in run.log:
        m = _REJECTED_RE.match(ln)
        if m:
            rejected = int(m.group(1))
    result = CallResult(
        run=run,
        answered="ANSWERED" in events,
        dtmf_sent="DTMF_SENT" in events,
        ended_by=ended_by,
        rejected=rejected,
    )
    _cleanup(wd, result.ok and workdir is None)
    return result


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
        "-key",
        "agent",
        number,
        "-key",
        "contact_port",
        str(contact_port),
        "-key",
        "expires",
        str(expires),
        "-au",
        auth_username or number,
        "-ap",
        password,
        "-m",
        "1",
        "-l",
        "1",
        "-i",
        LOCAL_IP,
        f"{host}:{port}",
    ]
    run = await run_sipp(
        "register.xml", args, timeout_s=timeout_s, workdir=workdir, prefix=f"reg{number}"
    )
    if workdir is None:
        _cleanup(run.workdir, run.ok)
    return run


async def unregister(number: str, password: str, contact_port: int, **kw: object) -> SippRun:
    """REGISTER with ``Expires: 0`` for the same contact."""
    return await register(number, password, contact_port, expires=0, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# agent
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentEvent:
    kind: str  # OFFERED, ANSWERED, CANCELLED, REMOTE_BYE, LOCAL_BYE, OPTIONS, DTMF_SENT
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
        if dtmf_gap_ms < self._DTMF_EVENT_MS + 20:
            raise SippError(f"dtmf_gap_ms must be >= {self._DTMF_EVENT_MS + 20}")
        for i, (at, digits) in enumerate(self.dtmf):
            if at < 0 or not digits or any(d not in _DTMF_EVENTS for d in digits):
                raise SippError(f"bad DTMF entry {(at, digits)!r}")
            if i and at < self.dtmf[i - 1][0] + self._dtmf_len_ms(self.dtmf[i - 1][1]):
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

    # -- media (audio / dtmf) ------------------------------------------------
    #: Asterisk drops every RTP packet whose sequence number is older than the
    #: newest one of the call, so a call's packets must never go back: the
    #: digits (and audio) up to the last DTMF are one timeline pcap, played
    #: once, and the audio after it a ring pcap of _RING_PACKETS packets whose
    #: sequence numbers step by 65536 // _RING_PACKETS, so that each replay
    #: continues the sequence (the last packet is one step before the first).
    _PTIME_MS = 30  # g711a.pcap: 236 PCMA packets of 30 ms
    _RING_PACKETS = 256
    _SSRC = 0x5A6E7A01
    _DTMF_EVENT_MS = 140  # the stock RFC 2833 event (8 packets, end sent 3x)
    _AUDIO_RESUME_MS = 200  # audio pause after the last packet of a DTMF entry

    def _dtmf_len_ms(self, digits: str) -> int:
        """Time from the first to the last packet of one DTMF entry."""
        return (len(digits) - 1) * self.dtmf_gap_ms + self._DTMF_EVENT_MS

    @staticmethod
    def _rtp_of(frame: bytes) -> bytes:
        return frame[14 + (frame[14] & 0x0F) * 4 + 8 :]

    @staticmethod
    def _pcap_record(t_s: float, template: bytes, rtp: bytes) -> bytes:
        """A pcap record: ``template``'s Ethernet/IPv4/UDP headers around ``rtp``.

        One UDP port pair for all: sipp sends each packet to the SDP port
        plus (its UDP destination port - the lowest one in the pcap).
        """
        ihl = (template[14] & 0x0F) * 4
        ip = bytearray(template[14 : 14 + ihl])
        udp = bytearray(template[14 + ihl : 14 + ihl + 8])
        struct.pack_into("!H", ip, 2, ihl + 8 + len(rtp))
        struct.pack_into("!H", ip, 10, 0)
        struct.pack_into("!H", ip, 10, _csum(bytes(ip)))
        struct.pack_into("!HH", udp, 4, 8 + len(rtp), 0)
        pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 17, 8 + len(rtp))
        struct.pack_into("!H", udp, 6, _csum(pseudo + bytes(udp) + rtp) or 0xFFFF)
        frame = template[:14] + bytes(ip) + bytes(udp) + rtp
        sec = int(t_s)
        usec = min(999_999, round((t_s - sec) * 1e6))
        return struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame

    def _media_args(self, workdir: Path) -> list[str]:
        """Build this agent's media pcaps (:func:`_media_pcaps`); their -key/-set arguments."""
        media_pcap, media_at, ring_pcap, ring_at, ring_ms = _media_pcaps(
            workdir, list(self.dtmf), self.dtmf_gap_ms, self.audio, self._SSRC
        )
        slots = [at for at, _ in self.dtmf] + [-1, -1]
        return [
            *("-key", "media_pt", "8" if self.audio else "0"),
            *("-key", "media_codec", "PCMA" if self.audio else "PCMU"),
            *("-key", "media_pcap", media_pcap, "-set", "media_at_ms", str(media_at)),
            *("-key", "ring_pcap", ring_pcap),
            *("-set", "ring_at_ms", str(ring_at if self.audio else -1)),
            *("-set", "ring_ms", str(ring_ms)),
            *("-set", "dtmf1_at_ms", str(slots[0]), "-set", "dtmf2_at_ms", str(slots[1])),
        ]

    async def _start(self) -> None:
        self.workdir = _mkworkdir(f"agent{self.number}", self._workdir_arg)
        self._final_log = self._final_errors = None
        self.uas_port = self.uas_port or free_udp_port()
        self.media_port = self.media_port or free_media_port()
        answer = -1 if self.never_answer else max(0, self.answer_delay_ms)
        self.argv = [
            SIPP_BIN,
            "-sf",
            str(SCENARIO_DIR / "agent_uas.xml"),
            "-key",
            "agent",
            self.number,
            "-set",
            "answer_delay_ms",
            str(answer),
            "-set",
            "talk_ms",
            str(self.talk_ms or 0),
            *self._media_args(self.workdir),
            "-i",
            LOCAL_IP,
            "-p",
            str(self.uas_port),
            "-mp",
            str(self.media_port),
            *_common_args(self.workdir),
            "-trace_msg",
            "-message_file",
            str(self.workdir / "messages.txt"),
            f"{self.host}:{self.port}",
        ]
        self.proc = await _spawn(self.argv, self.workdir)
        while _udp_port_free(self.uas_port):  # sipp binds it once it is up
            if self.proc.returncode is not None:
                raise SippError(
                    f"agent UAS exited rc={self.proc.returncode}: "
                    f"{_read(self.workdir / 'stderr.txt')[-1000:]}"
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
            _kill_group(proc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), grace_s)
        if self.workdir is not None:  # calls still up when the UAS died
            await hangup_open_dialogs(self.workdir / "messages.txt", (self.host, self.port))
            # keep what the observation methods need, then drop the files
            # (kept with SIPP_KEEP_WORKDIRS=1, an explicit workdir, or errors)
            self._final_log = self.log_lines()
            self._final_errors = self.errors()
            if self._workdir_arg is None and not self._final_errors:
                _cleanup(self.workdir, True)

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
        return _read_log(self.workdir / "log.txt") if self.workdir else []

    def events(self) -> list[AgentEvent]:
        out = []
        for line in self.log_lines():
            m = _AGENT_RE.match(line)
            if m:
                out.append(AgentEvent(m["kind"], m["cid"], m["user"], m["name"]))
        return out

    def offered_callers(self) -> list[str]:
        """From users of every INVITE received so far, in order."""
        return [e.from_user or "" for e in self.events() if e.kind == "OFFERED"]

    def offered_names(self) -> list[str]:
        """From display names (empty if none) of every INVITE received."""
        return [e.from_name or "" for e in self.events() if e.kind == "OFFERED"]

    def _count(self, kind: str) -> int:
        return sum(1 for e in self.events() if e.kind == kind)

    def offered_count(self) -> int:
        return self._count("OFFERED")

    def answered_count(self) -> int:
        return self._count("ANSWERED")

    def cancelled_count(self) -> int:
        return self._count("CANCELLED")

    def dtmf_sent_count(self) -> int:
        """DTMF entries sent so far (one per configured entry per answered call)."""
        return self._count("DTMF_SENT")

    def ended_count(self) -> int:
        """Answered calls that have ended (either side's BYE)."""
        return self._count("REMOTE_BYE") + self._count("LOCAL_BYE")

    def errors(self) -> list[str]:
        """sipp's unexpected-message/failure log for this agent (tick noise removed)."""
        if self._final_errors is not None:
            return self._final_errors
        return _read_errors(self.workdir / "errors.txt") if self.workdir else []

    async def wait_for(
        self, kind: str, count: int = 1, *, timeout_s: float = 10.0
    ) -> list[AgentEvent]:
        """Wait until ``count`` events of ``kind`` were logged; TimeoutError otherwise."""
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
