"""The AMI wire format, kept free of sockets and asyncio.

Framing bugs are the ones that hurt most in production (a half-read frame resolves the wrong
action, a stray CR/LF in a caller-supplied value lets one action smuggle in another), and they are
only testable exhaustively when the codec is a pure function of bytes. The client owns the
transport; this module only turns bytes into `Message`s and actions into bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import overload

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "AmiException",
    "AmiParser",
    "AmiProtocolError",
    "Message",
    "encode_action",
]

DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

_OUTPUT_KEY = "Output"
_BANNER_MARK = "Call Manager/"
_RESERVED_KEYS = frozenset({"action", "actionid"})


class AmiException(Exception):
    """Base of every AMI error, so callers can catch the whole family in one place."""


class AmiProtocolError(AmiException):
    """The peer broke the framing rules; the byte stream can no longer be trusted.

    `messages` holds the frames that were complete before the violation, so the caller can still
    deliver them before dropping the connection.
    """

    def __init__(self, reason: str, messages: Sequence[Message] = ()) -> None:
        super().__init__(reason)
        self.messages: list[Message] = list(messages)


class Message:
    """One AMI frame, as the ordered (key, value) pairs Asterisk sent.

    A dict would lose information: Asterisk repeats keys (`Variable`, `Output`, `ChanVariable`)
    and their order matters, while lookups must ignore case because Asterisk is not consistent
    about it (`ActionID` vs `ActionId`). So the pairs are kept verbatim and a case-insensitive
    index sits beside them. Messages are immutable so they can be shared between consumers.
    """

    __slots__ = ("_index", "_pairs")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs: tuple[tuple[str, str], ...] = tuple(pairs)
        index: dict[str, list[str]] = {}
        for key, value in self._pairs:
            index.setdefault(key.lower(), []).append(value)
        self._index = index

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    @overload
    def get(self, key: str, default: None) -> str | None: ...
    def get(self, key: str, default: str | None = None) -> str | None:
        """First value for `key`: for the keys that matter (Event, Response, ActionID) Asterisk
        sends exactly one, so the first is the only sensible answer."""
        values = self._index.get(key.lower())
        return values[0] if values else default

    def getall(self, key: str) -> list[str]:
        """Every value for `key`, in wire order; for repeated headers such as `Output`."""
        return list(self._index.get(key.lower(), ()))

    def __getitem__(self, key: str) -> str:
        values = self._index.get(key.lower())
        if not values:
            raise KeyError(key)
        return values[0]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        # Iterates pairs, like the list it is, so `dict(msg)` and `list(msg)` behave obviously.
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self._pairs == other._pairs

    def __hash__(self) -> int:
        return hash(self._pairs)

    def __repr__(self) -> str:
        return f"Message({list(self._pairs)!r})"

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    @property
    def is_event(self) -> bool:
        return "event" in self._index

    @property
    def is_response(self) -> bool:
        """An action's reply. Events never count, even with a `Response` key: OriginateResponse
        has one, and treating it as a reply is how a sync Originate used to break panoramisk."""
        return "response" in self._index and "event" not in self._index

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def name(self) -> str | None:
        """The Event name or the Response value: what a log line or a dispatcher keys on."""
        if self.is_event:
            return self.get("Event")
        return self.get("Response")

    def to_dict(self) -> dict[str, str | list[str]]:
        """A plain dict for logging and JSON; repeated keys collapse into a list of values.

        Keys keep the spelling of their first occurrence.
        """
        out: dict[str, str | list[str]] = {}
        spelling: dict[str, str] = {}
        for key, value in self._pairs:
            lower = key.lower()
            if lower not in spelling:
                spelling[lower] = key
                out[key] = value
                continue
            first = spelling[lower]
            current = out[first]
            if isinstance(current, list):
                current.append(value)
            else:
                out[first] = [current, value]
        return out


class AmiParser:
    """Incremental AMI decoder: feed it whatever the socket returned, get whole messages back.

    Works line by line so a frame may be split anywhere, including inside a CRLF or a multi-byte
    UTF-8 sequence. Asterisk terminates lines with CRLF, but proxies and test tools sometimes send
    bare LF, so both are accepted. A peer that never ends a frame would otherwise grow the buffer
    without bound, hence `max_frame_bytes`.
    """

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes <= 0:
            raise ValueError("max_frame_bytes must be positive")
        self.max_frame_bytes = max_frame_bytes
        self.banner: str | None = None
        self._buf = bytearray()
        self._pairs: list[tuple[str, str]] = []
        self._frame_bytes = 0
        self._first_line = True
        self._broken: str | None = None

    def feed(self, data: bytes) -> list[Message]:
        """Consume `data`; return the messages it completed, oldest first.

        Raises `AmiProtocolError` on an oversized frame, and on every later call: after a framing
        violation the position in the stream is unknown, so the only safe move is a new
        connection with a new parser.
        """
        if self._broken is not None:
            raise AmiProtocolError(self._broken)
        # What was buffered before holds no LF, so the scan resumes where the last one stopped.
        scan_from = len(self._buf)
        self._buf += data
        messages: list[Message] = []
        buf = self._buf
        start = 0
        while True:
            end = buf.find(b"\n", max(start, scan_from))
            if end < 0:
                break
            raw = bytes(buf[start:end])
            line_bytes = end + 1 - start
            start = end + 1
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            line = raw.decode("utf-8", errors="replace")
            if self._first_line:
                self._first_line = False
                if ": " not in line and _BANNER_MARK in line:
                    self.banner = line
                    continue
            if not line:
                if self._pairs:
                    messages.append(Message(self._pairs))
                    self._pairs = []
                self._frame_bytes = 0
                continue
            self._frame_bytes += line_bytes
            if self._frame_bytes > self.max_frame_bytes:
                del buf[:start]
                self._fail(messages)
            self._pairs.append(_split_line(line))
        del buf[:start]
        if self._frame_bytes + len(buf) > self.max_frame_bytes:
            self._fail(messages)
        return messages

    def _fail(self, messages: list[Message]) -> None:
        self._broken = (
            f"AMI frame exceeds {self.max_frame_bytes} bytes without a terminating blank line; "
            "the stream is out of sync and the connection must be dropped"
        )
        self._buf.clear()
        self._pairs = []
        raise AmiProtocolError(self._broken, messages)


def _split_line(line: str) -> tuple[str, str]:
    key, sep, value = line.partition(": ")
    if sep and key and not _has_space(key):
        return key, value
    if line.endswith(":") and len(line) > 1 and not _has_space(line[:-1]):
        # "Key:" with nothing after it: an empty value whose trailing space was trimmed.
        return line[:-1], ""
    # Free text, e.g. pre-13 `Command` output, which is not framed as headers at all.
    return _OUTPUT_KEY, line


def _has_space(text: str) -> bool:
    return any(ch.isspace() for ch in text)


def encode_action(
    name: str, action_id: str, fields: Mapping[str, str | int | Sequence[str]]
) -> bytes:
    """Serialise one action.

    Refuses any CR or LF: values often come from callers, IVR input or config, and a newline in
    one of them would let it end our frame and start a forged action (e.g. a Redirect or an
    Originate). Keys must be plain tokens because anything else could not be parsed back as the
    same key. `Action`/`ActionID` may not appear in `fields`: a second copy would make which one
    Asterisk honours, and so which reply resolves which request, ambiguous.
    """
    _check_value("action name", name)
    if not name:
        raise ValueError("AMI action name must not be empty")
    _check_value("ActionID", action_id)
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, raw in fields.items():
        _check_key(key)
        if isinstance(raw, str):
            values: Sequence[str] = (raw,)
        elif isinstance(raw, bool):
            values = ("true" if raw else "false",)
        elif isinstance(raw, int):
            values = (str(raw),)
        else:
            values = raw
        for value in values:
            if not isinstance(value, str):
                raise TypeError(f"AMI field {key!r}: expected str, got {type(value).__name__}")
            _check_value(f"field {key!r}", value)
            lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _check_key(key: str) -> None:
    if "\r" in key or "\n" in key:
        raise ValueError(f"AMI field name {key!r} contains CR or LF (header injection)")
    if not key or ":" in key or _has_space(key):
        raise ValueError(f"AMI field name {key!r} must be a non-empty token without ':' or spaces")
    if key.lower() in _RESERVED_KEYS:
        raise ValueError(f"AMI field name {key!r} is reserved and set by the client")


def _check_value(what: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError(f"AMI {what} contains CR or LF (header injection): {value!r}")
