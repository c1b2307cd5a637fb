"""One call's AGI conversation: one command in flight, replies judged, hang-ups told apart.

The server (`acd.agi.server`) accepts the connection and reads the environment; from then on
everything that happens on the call goes through an `AgiSession`, which only moves bytes,
keeps one command in flight and decides when the call is over. Parsing lives in
`acd.agi.protocol`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from typing import NoReturn

from acd.agi.environment import MAX_HEADER_BYTES, AgiRequest
from acd.agi.protocol import (
    DTMF_DIGITS,
    MAX_REPLY_BYTES,
    AgiCommandFailed,
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    AgiTimeout,
    Notice,
    ReplyParser,
    command_line,
    quote,
)

DEFAULT_COMMAND_TIMEOUT = 60.0
STREAM_LIMIT = max(MAX_HEADER_BYTES, MAX_REPLY_BYTES)
"""The longest line a connection's reader accepts: the server opens every connection with it."""

_UNKNOWN_DIGIT_TIMEOUT = 10.0  # GET DATA with timeout 0 uses the channel's own, unknown to us
_APP_RE = re.compile(r"[A-Za-z0-9_]+")

_log = logging.getLogger("acd.agi")


class AgiSession:
    """One call's AGI conversation, strictly one command at a time.

    Serialised with a lock because res_agi treats any byte arriving during STREAM FILE or GET
    DATA as "a new command", aborts the playback and sends no reply at all, which would shift
    every later reply by one.
    """

    def __init__(
        self,
        request: AgiRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        logger: logging.Logger | None = None,
    ) -> None:
        self.request = request
        self.command_timeout = command_timeout
        self._reader = reader
        self._writer = writer
        self._log = logger or _log
        self._parser = ReplyParser()
        self._lock = asyncio.Lock()
        self._hung_up = False
        self._broken: str | None = None

    @property
    def hung_up(self) -> bool:
        """True once Asterisk said HANGUP, answered 511 or closed the connection."""
        return self._hung_up

    async def command(self, line: str, *, reply_timeout: float | None = None) -> AgiReply:
        """Send one raw command and return its 200 reply.

        `reply_timeout` defaults to `command_timeout`; pass `math.inf` for commands that may run for
        as long as the call lasts. Raises `AgiHangup` (HANGUP seen, 511, EOF), `AgiTimeout`,
        `AgiError` (510, 520 with its usage text, any other non-200) and `ValueError` for a
        line Asterisk would split or truncate.
        """
        data = command_line(line)
        budget = self._budget(reply_timeout)
        async with self._lock:
            if self._hung_up:
                raise AgiHangup(f"{line!r} not sent: the channel already hung up")
            if self._broken is not None:
                raise AgiHangup(f"{line!r} not sent: {self._broken}")
            timer = asyncio.timeout(budget)
            try:
                async with timer:
                    reply = await self._exchange(line, data)
            except asyncio.CancelledError:
                # Cancelled from outside with the reply unread: the next reply would be taken
                # for the answer to the next command.
                self._broken = f"{line!r} was cancelled before its reply"
                raise
            except TimeoutError:
                if not timer.expired():
                    raise
                self._broken = f"{line!r} got no reply within {budget:g} s"
                raise AgiTimeout(self._broken) from None
            return self._judge(line, reply)

    async def answer(self) -> None:
        reply = await self.command("ANSWER")
        if _int_result(reply) < 0:
            await self._failed("ANSWER", reply)

    async def stream_file(
        self, name: str, escape_digits: str = "", *, reply_timeout: float | None = None
    ) -> str:
        """Play a prompt; return the escape digit that interrupted it, or ''.

        The default wait is `command_timeout`, so longer prompts need `reply_timeout`.
        """
        _check_digits(escape_digits)
        reply = await self.command(
            f"STREAM FILE {quote(name)} {quote(escape_digits)}", reply_timeout=reply_timeout
        )
        code = _int_result(reply)
        if code < 0:
            await self._failed(f"STREAM FILE {name!r}", reply)
        return _digit(reply, code)

    async def get_data(
        self, name: str, timeout_ms: int, max_digits: int, *, reply_timeout: float | None = None
    ) -> tuple[str, bool]:
        """Play a prompt and collect up to `max_digits`; return (digits, timed_out).

        The default budget is `command_timeout` for the prompt plus the digit timeout for every
        digit, because the caller may legitimately take that long.
        """
        if timeout_ms < 0:
            raise ValueError(f"timeout_ms must be >= 0 (0 = channel default), not {timeout_ms}")
        if not 1 <= max_digits <= 1024:
            raise ValueError(f"max_digits must be 1..1024, not {max_digits}")
        if reply_timeout is None:
            per_digit = timeout_ms / 1000 if timeout_ms else _UNKNOWN_DIGIT_TIMEOUT
            reply_timeout = self.command_timeout + per_digit * max_digits
        reply = await self.command(
            f"GET DATA {quote(name)} {timeout_ms} {max_digits}", reply_timeout=reply_timeout
        )
        if reply.result.startswith("-"):
            await self._failed(f"GET DATA {name!r}", reply)
        return reply.result, reply.data == "timeout"

    async def wait_for_digit(self, timeout_ms: int, *, reply_timeout: float | None = None) -> str:
        """Wait for one DTMF digit; '' on timeout. `timeout_ms=-1` waits as long as the call."""
        if timeout_ms < -1:
            raise ValueError(f"timeout_ms must be >= -1, not {timeout_ms}")
        if reply_timeout is None:
            reply_timeout = math.inf if timeout_ms < 0 else self.command_timeout + timeout_ms / 1000
        reply = await self.command(f"WAIT FOR DIGIT {timeout_ms}", reply_timeout=reply_timeout)
        code = _int_result(reply)
        if code < 0:
            await self._failed("WAIT FOR DIGIT", reply)
        return _digit(reply, code)

    async def set_variable(self, name: str, value: str) -> None:
        _check_name(name)
        await self.command(f"SET VARIABLE {quote(name)} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, or None when it is not set (result=0)."""
        _check_name(name)
        reply = await self.command(f"GET VARIABLE {quote(name)}")
        return reply.data if reply.result == "1" else None

    async def exec(self, app: str, args: str = "", *, reply_timeout: float = math.inf) -> AgiReply:
        """Run a dialplan application and return its reply (result is the app's return value).

        No timeout by default: Dial, Queue or Record legitimately run for as long as the call.
        result=-1 on a live channel is returned, not raised, since for many applications it
        only means "the dialplan would hang up now"; -2 (no such application) raises.
        """
        if not _APP_RE.fullmatch(app):
            raise ValueError(f"not a dialplan application name: {app!r}")
        line = f"EXEC {app} {quote(args)}" if args else f"EXEC {app}"
        reply = await self.command(line, reply_timeout=reply_timeout)
        if reply.result == "-2":
            raise AgiCommandFailed(f"EXEC {app}: no such application", reply)
        if reply.result == "-1":
            try:
                await self._failed(f"EXEC {app}", reply)
            except AgiCommandFailed:
                return reply
        return reply

    async def verbose(self, msg: str, level: int = 1) -> None:
        if not 1 <= level <= 4:
            raise ValueError(f"verbose level must be 1..4, not {level}")
        await self.command(f"VERBOSE {quote(msg)} {level}")

    async def hangup(self) -> None:
        """Hang up the channel; a channel that is already gone is not an error here."""
        if self._hung_up:
            return
        try:
            await self.command("HANGUP")
        except AgiTimeout:
            raise
        except AgiHangup:
            pass
        self._hung_up = True

    def _budget(self, reply_timeout: float | None) -> float | None:
        budget = self.command_timeout if reply_timeout is None else reply_timeout
        if math.isnan(budget) or budget <= 0:
            raise ValueError(f"timeout must be positive, not {budget}")
        return None if math.isinf(budget) else budget

    async def _exchange(self, line: str, data: bytes) -> AgiReply:
        self._log.debug("%s AGI >> %s", self.request.channel, line)
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            self._hung_up = True
            raise AgiHangup(f"{line!r}: connection lost while sending ({exc})") from exc
        while True:
            try:
                raw = await self._reader.readline()
            except ValueError as exc:  # a line longer than the stream limit
                self._broken = f"reply line longer than {STREAM_LIMIT} bytes"
                raise AgiProtocolError(f"{line!r}: {self._broken}") from exc
            except OSError as exc:
                self._hung_up = True
                raise AgiHangup(f"{line!r}: connection lost ({exc})") from exc
            if not raw.endswith(b"\n"):
                self._hung_up = True
                raise AgiHangup(f"{line!r}: Asterisk closed the connection")
            try:
                item = self._parser.feed_line(raw)
            except AgiProtocolError as exc:
                self._broken = f"unparsable reply ({exc})"
                raise
            if item is Notice.HANGUP:
                # Out of band: the reply to `line` (511 or a real one) is still to come.
                self._log.debug("%s AGI << HANGUP", self.request.channel)
                self._hung_up = True
            elif item is not None and 100 <= item.code < 200:
                # Provisional ("100 result=0 Trying..." from GOSUB, before the routine runs):
                # the final reply follows, and taking this one for it would shift every later
                # reply onto the wrong command.
                self._log.debug("%s AGI << %s (provisional)", self.request.channel, item.raw)
            elif item is not None:
                self._log.debug("%s AGI << %s", self.request.channel, item.raw)
                return item

    def _judge(self, line: str, reply: AgiReply) -> AgiReply:
        if self._hung_up:
            raise AgiHangup(f"{line!r}: channel hung up", reply)
        if reply.code == 511:
            self._hung_up = True
            raise AgiHangup(f"{line!r}: {reply.raw}", reply)
        if reply.code != 200:
            raise AgiError(f"{line!r} rejected: {reply.raw}", reply)
        return reply

    async def _failed(self, what: str, reply: AgiReply) -> NoReturn:
        """Tell "the caller left" from "the command failed" after a result=-1.

        res_agi only writes its out-of-band HANGUP after the failed command's reply, but always
        before it reads the next command, so one cheap CHANNEL STATUS settles it.
        """
        try:
            await self.command("CHANNEL STATUS")
        except AgiTimeout:
            raise
        except AgiHangup as exc:
            raise AgiHangup(f"{what}: channel hung up", reply) from exc
        except AgiError:
            pass
        raise AgiCommandFailed(f"{what} failed: {reply.raw}", reply)


def _int_result(reply: AgiReply) -> int:
    try:
        return int(reply.result)
    except ValueError:
        raise AgiProtocolError(f"expected a numeric result: {reply.raw!r}") from None


def _digit(reply: AgiReply, code: int) -> str:
    if code == 0:
        return ""
    if code > 0x10FFFF:
        raise AgiProtocolError(f"result is not a character code: {reply.raw!r}")
    return chr(code)


def _check_digits(digits: str) -> None:
    if not set(digits) <= DTMF_DIGITS:
        raise ValueError(f"escape digits must be among 0-9 * # A-D, not {digits!r}")


def _check_name(name: str) -> None:
    if not name:
        raise ValueError("variable name must not be empty")
