"""FastAGI replies and commands as values: what goes over the wire once the call is set up.

Kept apart from the server so every odd input (out-of-band HANGUP lines, multi-line 520 usage
blocks, replies whose data contains parentheses) can be fed in directly by tests and property
checks, and so that the only exception a parser raises on bad input is `AgiProtocolError`. The
environment Asterisk sends first is parsed in `acd.agi.environment`.

Facts about Asterisk 22's res_agi that shape this module:

* Commands are read with ``fgets`` into a 2048-byte buffer: a longer line is silently cut and
  its tail executed as a second command, so `command_line` refuses such lines.
* Arguments are split by a small shell-like parser that understands double quotes and
  backslash escapes, which is what `quote` targets.
* "HANGUP" is written on its own line whenever the channel goes away, between replies, so it
  can precede the reply to the command just sent.
* A 520 reply with usage text spans several lines; the usage text is written verbatim and may
  lack a final newline, gluing "520 End of proper usage." onto its last line.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_REPLY_BYTES = 64 * 1024
"""Cap on one reply, multi-line usage text included (a GET VARIABLE value can be long)."""

MAX_COMMAND_BYTES = 2046
"""Longest command Asterisk reads whole: AGI_BUF_LEN is 2048, fgets keeps room for NUL and LF."""

DTMF_DIGITS = frozenset("0123456789*#ABCD")


class AgiProtocolError(Exception):
    """The peer sent something that is not FastAGI; nothing more on that connection is trusted."""


class AgiError(Exception):
    """Asterisk refused or failed a command while the channel is still there.

    The reply rides along so callers can tell a 510 from a 520 and read the usage text.
    """

    def __init__(self, message: str, reply: AgiReply | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class AgiCommandFailed(AgiError):
    """A command answered result=-1 (or -2) but the channel is verifiably still up.

    Separate from `AgiHangup` because a missing prompt file must not look like a caller who
    left: the first is a bug to fix, the second is business as usual.
    """


class AgiHangup(Exception):
    """The channel is gone (or the AGI connection is), so the handler should just stop.

    Raised out of every command once Asterisk has said HANGUP, answered 511, or closed the
    socket; carries the reply if one still arrived.
    """

    def __init__(self, message: str = "channel hung up", reply: AgiReply | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class AgiTimeout(AgiHangup):
    """No reply in time; the session is unusable because a late reply would be misattributed.

    A subclass of `AgiHangup` so that handlers which only care about "the call is over for me"
    need a single except clause.
    """


@dataclass(frozen=True)
class AgiReply:
    """One complete reply; `raw` keeps every line so nothing is lost to lenient parsing."""

    code: int
    result: str
    data: str
    endpos: int | None
    raw: str

    @property
    def usage(self) -> str:
        """The usage text of a multi-line reply (a 520), without its first and last lines."""
        lines = self.raw.split("\n")
        if len(lines) < 2:
            return ""
        last = lines[-1]
        end = last.rfind(f"{self.code} ")
        body = [*lines[1:-1], last[:end]] if end > 0 else lines[1:-1]
        return "\n".join(body).rstrip("\n")


class Notice(enum.Enum):
    """Lines Asterisk sends on its own, not as a reply to anything."""

    HANGUP = "HANGUP"


_REPLY_RE = re.compile(r"(\d{3})(?: (.*))?", re.DOTALL)
_RESULT_RE = re.compile(r"result=(\S*)(?: (.*))?", re.DOTALL)
# Greedy data so a value that itself contains ")" or "endpos=" stays whole.
_TAIL_RE = re.compile(r"(?:\((?P<data>.*)\))? ?(?:endpos=(?P<endpos>-?\d{1,20}))?", re.DOTALL)
_MULTI_RE = re.compile(r"(\d{3})-(.*)", re.DOTALL)


def parse_reply(line: str) -> AgiReply:
    """Parse a single-line reply such as "200 result=1 (value) endpos=1234".

    Unknown trailing text after result= is kept as `data` rather than rejected: Asterisk
    modules (speech, for one) add their own fields, and `raw` is there for the curious.
    """
    match = _REPLY_RE.fullmatch(line)
    if match is None:
        raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")
    code = int(match[1])
    rest = match[2] or ""
    result_match = _RESULT_RE.fullmatch(rest)
    if result_match is None:
        if code == 200:
            raise AgiProtocolError(f"200 reply without result=: {line[:80]!r}")
        return AgiReply(code=code, result="", data="", endpos=None, raw=line)
    result = result_match[1]
    tail = result_match[2] or ""
    tail_match = _TAIL_RE.fullmatch(tail)
    if tail_match is None:
        return AgiReply(code=code, result=result, data=tail, endpos=None, raw=line)
    endpos = tail_match["endpos"]
    return AgiReply(
        code=code,
        result=result,
        data=tail_match["data"] or "",
        endpos=int(endpos) if endpos is not None else None,
        raw=line,
    )


class ReplyParser:
    """Turns reply lines into `AgiReply` values and `Notice.HANGUP`, one line at a time.

    Line-based because the server reads lines anyway; state is only needed for the
    multi-line "NNN-" form, which ends with a line starting "NNN ".
    """

    def __init__(self, max_bytes: int = MAX_REPLY_BYTES) -> None:
        self._max = max_bytes
        self._code: int | None = None
        self._lines: list[str] = []
        self._size = 0

    @property
    def in_multiline(self) -> bool:
        return self._code is not None

    def feed_line(self, raw: bytes) -> AgiReply | Notice | None:
        """None means "need more lines" (inside a multi-line reply, or a blank line)."""
        # Lenient decoding: a variable value with odd bytes must not cost the caller the call.
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if self._code is not None:
            return self._continue(line)
        if not line:
            return None
        if line == Notice.HANGUP.value:
            return Notice.HANGUP
        multi = _MULTI_RE.fullmatch(line)
        if multi is not None:
            self._code = int(multi[1])
            self._lines = [line]
            self._size = len(line)
            return None
        return parse_reply(line)

    def _continue(self, line: str) -> AgiReply | None:
        assert self._code is not None
        self._lines.append(line)
        self._size += len(line) + 1
        if self._size > self._max:
            raise AgiProtocolError(f"multi-line reply longer than {self._max} bytes")
        end = f"{self._code} "
        if not (line.startswith(end) or line == str(self._code) or _glued_end(line, end)):
            return None
        reply = AgiReply(
            code=self._code, result="", data="", endpos=None, raw="\n".join(self._lines)
        )
        self._code = None
        self._lines = []
        self._size = 0
        return reply


def _glued_end(line: str, end: str) -> bool:
    """Usage text without a final newline leaves "520 End of proper usage." on its last line."""
    return line.endswith(f"{end}End of proper usage.")


def quote(value: str) -> str:
    """Quote one command argument the way res_agi's parse_args undoes it.

    Newlines would end the command early and let the rest run as another command; NUL would
    truncate it in C. Both are refused rather than silently altered.
    """
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"AGI arguments cannot contain newlines or NUL: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command_line(line: str) -> bytes:
    """Encode a command, refusing what Asterisk would split or truncate."""
    if not line.strip():
        raise ValueError("empty AGI command")
    if "\n" in line or "\r" in line or "\0" in line:
        raise ValueError(f"AGI command cannot contain newlines or NUL: {line!r}")
    data = line.encode("utf-8")
    if len(data) > MAX_COMMAND_BYTES:
        raise ValueError(
            f"AGI command is {len(data)} bytes; Asterisk reads at most {MAX_COMMAND_BYTES}"
        )
    return data + b"\n"
