"""Reading what sipp wrote: scenario logs, the error log, the stats CSV and the message trace.

The helpers parse these files instead of sipp's screen. The message trace also tells which
dialogs a killed sipp left up, and :func:`hangup_open_dialogs` sends those the BYE that sipp
cannot be made to send itself (it does not hang up on a signal: SIGUSR1/SIGINT only stop new
calls), so Asterisk does not keep the channel.

Trace facts (SIPp 3.6.1): every scenario ``<log>`` line is one line of ``-log_file``; each
tick of a ``<recv timeout=100 ontimeout=...>`` loop is a "receive timeout" entry in the
``-trace_err`` file, filtered out here as noise; ``-trace_stat`` is a ``;``-separated CSV
whose last row holds the cumulative counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import re
import socket
from pathlib import Path

from tests.e2e.sipp.common import LOCAL_IP

_TICK_NOISE = re.compile(r"receive timeout on message \S+, jumping to label")
_TRACE_BLOCK = re.compile(
    r"^-{20,} [^\n]*\n\w+ (?:control )?message (sent|received)[^\n]*\n\n", re.M
)


def read_text(path: Path) -> str:
    """A sipp output file, or "" if sipp never wrote it."""
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def read_log(path: Path) -> list[str]:
    """The scenario's ``<log>`` lines (``-trace_logs``), stripped, blank ones left out."""
    return [ln.strip() for ln in read_text(path).splitlines() if ln.strip()]


def read_errors(path: Path) -> list[str]:
    """The ``-trace_err`` entries, without the tick loops' receive-timeout noise."""
    text = read_text(path)
    # entries start with a timestamp "YYYY-MM-DD\tHH:MM:SS.ffffff\t..."
    parts = re.split(r"(?=\d{4}-\d{2}-\d{2}\t\d{2}:\d{2}:\d{2}\.\d+\t)", text)
    return [
        p.strip()
        for p in parts
        if p.strip()
        and not _TICK_NOISE.search(p)
        and not p.startswith("The following events occurred")
    ]


def read_stats(path: Path) -> dict[str, str]:
    """The last row of the ``-trace_stat`` CSV, by column name."""
    rows = list(csv.reader(read_text(path).splitlines(), delimiter=";"))
    rows = [r for r in rows if r]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


def log_events(log: list[str], prefix: str) -> list[str]:
    """The event names of a scenario's log lines: ``CALLER ANSWERED call_id=...`` -> ANSWERED."""
    return [ln.split()[1] for ln in log if ln.startswith(f"{prefix} ") and len(ln.split()) > 1]


# --------------------------------------------------------------------------
# the message trace, and the dialogs a killed sipp left behind
# --------------------------------------------------------------------------


def trace_messages(path: Path) -> list[tuple[str, str]]:
    """(direction, SIP message) pairs from a sipp ``-trace_msg`` file."""
    text = read_text(path)
    marks = list(_TRACE_BLOCK.finditer(text))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((m.group(1), text[m.end() : end].strip("\n")))
    return out


def header(msg: str, name: str) -> str | None:
    """The value of header ``name`` in a SIP message's head (case-insensitive)."""
    m = re.search(rf"^{name}\s*:\s*(.*?)\s*$", msg.split("\n\n", 1)[0], re.M | re.I)
    return m.group(1) if m else None


def open_dialogs(path: Path) -> list[dict[str, str]]:
    """Dialogs with a 2xx to INVITE and no BYE yet, as BYE ingredients."""
    dialogs: dict[str, dict[str, str]] = {}
    closed: set[str] = set()
    invites: dict[str, str] = {}
    for direction, msg in trace_messages(path):
        first = msg.split("\n", 1)[0]
        cid = header(msg, "Call-ID") or header(msg, "i")
        cseq = header(msg, "CSeq") or ""
        if not cid:
            continue
        if first.startswith("INVITE "):
            invites[cid] = msg
        elif first.startswith("BYE ") or cseq.endswith(" BYE"):
            closed.add(cid)
        elif re.match(r"SIP/2\.0 2\d\d ", first) and cseq.endswith(" INVITE"):
            frm, to = header(msg, "From"), header(msg, "To")
            if not frm or not to:
                continue
            if direction == "received":  # we are the UAC
                contact = header(msg, "Contact") or ""
                dialogs[cid] = {"from": frm, "to": to, "contact": contact}
            else:  # we are the UAS: swap, target = the INVITE's Contact
                contact = header(invites.get(cid, ""), "Contact") or ""
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
    dialogs = open_dialogs(trace)
    if not dialogs:
        return 0
    return await asyncio.to_thread(_send_byes, dialogs, *host_port)
