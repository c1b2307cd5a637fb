"""The AGI environment: the "agi_key: value" block Asterisk sends when it connects.

Kept apart from the socket (and from the reply side in `acd.agi.protocol`) so every odd header,
truncated, hostile or oversized, can be fed in directly by tests and property checks; the only
exception a parser here raises on bad input is `AgiProtocolError`.

Facts about Asterisk 22's res_agi that shape this module:

* The environment is "agi_key: value" lines ended by an empty line; FastAGI puts
  ``agi_network`` and ``agi_network_script`` (the URL path after the host, query string
  included) before the rest.
* Asterisk never repeats a key; a value is passed through byte for byte, in whatever encoding
  the gateway used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from acd.agi.protocol import AgiProtocolError
from acd.privacy import clean_number

MAX_HEADER_BYTES = 64 * 1024
"""Cap on the environment block; a real one is well under 2 KiB, so more means garbage."""


@dataclass(frozen=True)
class AgiRequest:
    """What Asterisk told us about the call when it connected.

    `env` keeps the keys exactly as sent (``agi_channel``...), so nothing Asterisk adds in a
    later version is lost; `script` is the route key and `params` its query string.
    """

    env: dict[str, str]
    script: str
    params: dict[str, str]
    args: list[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AgiRequest:
        raw_script = env.get("agi_network_script")
        if raw_script is None:
            raw_script = _script_from_url(env.get("agi_request", ""))
        script, params = split_script(raw_script)
        args: list[str] = []
        while (arg := env.get(f"agi_arg_{len(args) + 1}")) is not None:
            args.append(arg)
        return cls(env=dict(env), script=script, params=params, args=args)

    def _get(self, key: str) -> str:
        return self.env.get(f"agi_{key}", "")

    @property
    def url(self) -> str:
        return self._get("request")

    @property
    def channel(self) -> str:
        return self._get("channel")

    @property
    def uniqueid(self) -> str:
        return self._get("uniqueid")

    @property
    def callerid(self) -> str:
        """Caller number; Asterisk sends the literal "unknown" when there is none.

        Without control characters: they are never part of a number, and a CR in one would
        make every later AMI action that carries it (a callback's Originate) refused.
        """
        return clean_number(self._get("callerid"))

    @property
    def calleridname(self) -> str:
        """Caller name; Asterisk sends the literal "unknown" when there is none."""
        return self._get("calleridname")

    @property
    def context(self) -> str:
        return self._get("context")

    @property
    def extension(self) -> str:
        return self._get("extension")

    @property
    def priority(self) -> str:
        return self._get("priority")

    @property
    def language(self) -> str:
        return self._get("language")

    @property
    def channel_type(self) -> str:
        return self._get("type")

    @property
    def dnid(self) -> str:
        return self._get("dnid")

    @property
    def rdnis(self) -> str:
        return self._get("rdnis")

    @property
    def accountcode(self) -> str:
        return self._get("accountcode")

    @property
    def version(self) -> str:
        return self._get("version")


def split_script(raw: str) -> tuple[str, dict[str, str]]:
    """Route key and parameters from ``agi_network_script`` ("ivr?hotline=home").

    Slashes are stripped so "agi://host/ivr/" and "agi://host/ivr" reach the same handler.
    """
    path, _, query = raw.partition("?")
    path = path.partition("#")[0].strip("/")
    try:
        parsed = parse_qs(query, keep_blank_values=True)
    except ValueError as exc:  # pragma: no cover - parse_qs only raises with max_num_fields
        raise AgiProtocolError(f"unparsable query string {query!r}") from exc
    return path, {key: values[0] for key, values in parsed.items()}


def _script_from_url(url: str) -> str:
    """Fallback for a peer that sent no agi_network_script: take it from agi_request."""
    if "://" not in url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


_KEY_RE = re.compile(r"agi_[A-Za-z0-9_]+")


class HeaderParser:
    """Accumulates bytes until the blank line that ends the AGI environment.

    Works on arbitrary chunks so it does not care how the transport splits the stream; bytes
    after the blank line are kept in `remainder` (Asterisk may send HANGUP right away).
    """

    def __init__(self, max_bytes: int = MAX_HEADER_BYTES) -> None:
        self._max = max_bytes
        self._buf = bytearray()
        self._consumed = 0
        self._env: dict[str, str] = {}
        self._request: AgiRequest | None = None
        self._error: AgiProtocolError | None = None
        self.remainder = b""

    @property
    def request(self) -> AgiRequest | None:
        return self._request

    def feed(self, data: bytes) -> AgiRequest | None:
        """Return the request once the environment is complete, else None."""
        if self._error is not None:
            raise self._error
        if self._request is not None:
            self.remainder += data
            return self._request
        try:
            return self._feed(data)
        except AgiProtocolError as exc:
            self._error = exc
            raise

    def feed_eof(self) -> None:
        """The peer closed the connection; only fine once the environment is complete."""
        if self._request is None:
            got = self._consumed + len(self._buf)
            raise AgiProtocolError(
                f"connection closed after {got} bytes, before the end of the AGI environment"
            )

    def _feed(self, data: bytes) -> AgiRequest | None:
        self._buf += data
        while (newline := self._buf.find(b"\n")) >= 0:
            line = bytes(self._buf[:newline])
            del self._buf[: newline + 1]
            self._consumed += newline + 1
            if self._consumed > self._max:
                raise AgiProtocolError(f"AGI environment longer than {self._max} bytes")
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if not self._env:
                    raise AgiProtocolError("empty AGI environment")
                self.remainder = bytes(self._buf)
                self._buf.clear()
                self._request = AgiRequest.from_env(self._env)
                return self._request
            self._add(line)
        if self._consumed + len(self._buf) > self._max:
            raise AgiProtocolError(f"AGI environment longer than {self._max} bytes")
        return None

    def _add(self, line: bytes) -> None:
        raw_key, sep, raw_value = line.partition(b":")
        key = raw_key.decode("ascii", errors="replace")
        if not sep or not _KEY_RE.fullmatch(key):
            text = line.decode("utf-8", errors="replace")
            raise AgiProtocolError(f"not an AGI environment line: {text[:80]!r}")
        # Values are decoded leniently: Asterisk passes caller names through byte for byte
        # (GBK or Latin-1 from an ISDN or SIP gateway), and refusing the header would hang the
        # caller up, since the dialplan treats an AGI that ran no command as "done".
        value = raw_value.decode("utf-8", errors="replace")
        # Asterisk never repeats a key, so a repeat can only come from a value with an embedded
        # newline: the first, Asterisk's own, is kept so a caller ID cannot reroute the call.
        self._env.setdefault(key, value[1:] if value.startswith(" ") else value)


def parse_header(data: bytes) -> AgiRequest:
    """Parse a complete environment block in one go (tests, replays)."""
    parser = HeaderParser()
    request = parser.feed(data)
    if request is None:
        parser.feed_eof()
        raise AssertionError("unreachable: feed_eof raises without a request")  # pragma: no cover
    return request
