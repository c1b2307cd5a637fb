"""Reading the load run's sipp message traces: every SIP message with its host-clock time, and
from those each caller's dialog and each offer to an agent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
