"""Hostile and broken FastAGI input: the parsers and the server must end every call cleanly.

What a peer may send that Asterisk would not (or would only rarely): bytes that are not UTF-8,
CR/LF mixes, lines cut anywhere, oversized lines and headers, keys sent twice, replies with
codes nobody expects, a provisional "100 Trying" before the real reply, HANGUP in the middle
of a command, or the socket closing mid-line. Properties checked for every input:

* no crash: the only exceptions are the documented ones (`AgiProtocolError` from the
  parsers; `AgiHangup`, `AgiTimeout`, `AgiError`, `AgiProtocolError` from a command);
* no hang: every server scenario runs under an asyncio timeout, and memory is bounded by the
  parsers' byte caps, which are checked here;
* a clear error: what went wrong is in the exception or the log line;
* the server survives: after any of it, the next call on the same server is served.

Hypothesis settings: `deadline=None` because the server scenarios do real socket I/O, whose
timing is the machine's, not the code's. `max_examples` is 200 for the pure parsers (each
example takes microseconds) and 40 for the server scenarios (each opens two connections and
runs a handler, a few milliseconds; 40 covers each reply kind many times over, since a
scenario chains up to 6 of the 12 kinds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.agi import (
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    AgiSession,
    AgiTimeout,
    FastAgiServer,
)
from acd.agi.environment import MAX_HEADER_BYTES, HeaderParser
from acd.agi.protocol import Notice, ReplyParser

SCENARIO_LIMIT = 10.0  # no scenario may take longer than this: a hang fails the test
COMMAND_TIMEOUT = 0.3  # the silent-peer reply kind waits this long
PURE = settings(max_examples=200, deadline=None)
SERVER = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

ENV = [
    ("agi_network", "yes"),
    ("agi_network_script", "ivr?hotline=home"),
    ("agi_request", "agi://127.0.0.1:4573/ivr?hotline=home"),
    ("agi_channel", "PJSIP/trunk-00000001"),
    ("agi_uniqueid", "1700000000.1"),
    ("agi_callerid", "13800138000"),
    ("agi_calleridname", "张三"),
    ("agi_context", "from-trunk"),
    ("agi_extension", "100"),
    ("agi_priority", "2"),
]


def header(env: list[tuple[str, str]] = ENV, eol: bytes = b"\n") -> bytes:
    return b"".join(f"{k}: {v}".encode() + eol for k, v in env) + eol


def feed_in_chunks(parser: HeaderParser, data: bytes, cuts: list[int]) -> object:
    result = None
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        result = parser.feed(data[start:end])
    return result


# -- the environment ----------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_header_split_at_every_byte_gives_the_same_request(eol: bytes) -> None:
    raw = header(eol=eol) + b"HANGUP\n"
    whole = HeaderParser()
    expected = whole.feed(raw)
    assert expected is not None and expected.callerid == "13800138000"
    for cut in range(len(raw) + 1):
        parser = HeaderParser()
        first = parser.feed(raw[:cut])
        second = parser.feed(raw[cut:])
        assert (second or first) == expected, cut
        assert parser.remainder == b"HANGUP\n", cut


def test_mixed_line_endings_in_one_header() -> None:
    raw = b"agi_network: yes\r\nagi_network_script: ivr\nagi_callerid: 123\r\n\n"
    request = HeaderParser().feed(raw)
    assert request is not None
    assert (request.script, request.callerid) == ("ivr", "123")


def test_caller_name_that_is_not_utf8_keeps_the_call() -> None:
    """GBK from an ISDN gateway: the name is mangled, the call goes on (it used to be dropped,
    which the dialplan turned into a hang-up)."""
    gbk = "张三".encode("gbk")
    raw = header().replace("张三".encode(), gbk)
    request = HeaderParser().feed(raw)
    assert request is not None
    assert request.script == "ivr"
    assert "\ufffd" in request.calleridname


def test_a_repeated_key_cannot_reroute_the_call() -> None:
    """A caller ID with an embedded newline could add its own `agi_network_script` line."""
    env = [*ENV, ("agi_network_script", "agent?action=login"), ("agi_callerid", "666")]
    request = HeaderParser().feed(header(env))
    assert request is not None
    assert (request.script, request.params) == ("ivr", {"hotline": "home"})
    assert request.callerid == "13800138000"


def test_control_characters_are_not_part_of_the_caller_number() -> None:
    env = [*ENV[:5], ("agi_callerid", "138\r0013\x008000\x1b[2J"), *ENV[6:]]
    request = HeaderParser().feed(header(env))
    assert request is not None
    assert request.callerid == "13800138000[2J"
    assert request.env["agi_callerid"] == "138\r0013\x008000\x1b[2J"  # the raw value is kept


@pytest.mark.parametrize(
    ("env", "script"),
    [
        pytest.param(ENV[2:], "ivr", id="no-network-script"),
        pytest.param(
            [e for e in ENV if not e[0].startswith(("agi_network", "agi_req"))], "", id="no-route"
        ),
        pytest.param([("agi_network", "yes")], "", id="nothing-else"),
    ],
)
def test_missing_headers_give_a_request_with_blanks(
    env: list[tuple[str, str]], script: str
) -> None:
    request = HeaderParser().feed(header(env))
    assert request is not None
    assert request.script == script
    assert request.callerid == request.env.get("agi_callerid", "")


@PURE
@given(
    values=st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), min_size=1),
    crlf=st.lists(st.booleans(), min_size=12, max_size=12),
    data=st.data(),
)
def test_any_value_bytes_in_any_chunking_parse_or_fail_cleanly(
    values: list[bytes], crlf: list[bool], data: st.DataObject
) -> None:
    lines = [
        f"agi_v{n}: ".encode() + v + (b"\r\n" if crlf[n % 12] else b"\n")
        for n, v in enumerate(values)
    ]
    raw = b"agi_network_script: ivr\n" + b"".join(lines) + b"\n"
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=8)))
    request = feed_in_chunks(HeaderParser(), raw, cuts)
    # Values are text whatever the bytes: nothing a caller's network sends can refuse the call.
    assert request is not None
    assert request.script == "ivr"  # type: ignore[attr-defined]
    assert len(request.env) == len(values) + 1  # type: ignore[attr-defined]


@PURE
@given(
    raw=st.binary(max_size=400),
    mutations=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=4)), max_size=6),
    cuts=st.lists(st.integers(1, 600), max_size=6),
)
def test_mangled_headers_parse_or_raise_a_protocol_error(
    raw: bytes, mutations: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    data = bytearray(header() + raw)
    for at, insert in mutations:  # overwrite a few bytes anywhere with anything
        at %= len(data)
        data[at : at + len(insert)] = insert
    parser = HeaderParser(max_bytes=300)
    try:
        feed_in_chunks(parser, bytes(data), sorted(set(cuts)))
    except AgiProtocolError as exc:
        assert str(exc)  # says what was wrong
        with pytest.raises(AgiProtocolError):  # and stays failed: the stream is not trusted
            parser.feed(b"agi_network: yes\n\n")
        return
    if parser.request is None:
        with pytest.raises(AgiProtocolError, match="before the end of the AGI environment"):
            parser.feed_eof()


@PURE
@given(chunks=st.lists(st.integers(1, 5_000), min_size=1, max_size=40), newline=st.booleans())
def test_header_memory_is_capped_however_it_arrives(chunks: list[int], newline: bool) -> None:
    """Bytes without the blank line: refused as soon as they pass the cap, never buffered on."""
    parser = HeaderParser()
    fed = 0
    for size in chunks:
        line = b"agi_x: " + b"a" * size + (b"\n" if newline else b"")
        try:
            parser.feed(line)
        except AgiProtocolError as exc:
            assert "longer than" in str(exc)
            assert fed <= MAX_HEADER_BYTES  # it failed on the chunk that crossed the cap
            return
        fed += len(line)
    assert fed <= MAX_HEADER_BYTES


# -- replies ------------------------------------------------------------------------------

REPLY_LINES: list[tuple[bytes, object]] = [
    (b"200 result=1\n", "200"),
    (b"200 result=1 (\xff\xfe value) endpos=12\r\n", "200"),
    (b"100 result=0 Trying...\n", "100"),
    (b"HANGUP\n", Notice.HANGUP),
    (b"\n", None),
    (b"510 Invalid or unknown command\n", "510"),
    (b"511 Command Not Permitted on a dead channel or intercept routine\n", "511"),
    (
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b"Usage: STREAM FILE <filename> <escape digits>\n"
        b"520 End of proper usage.\n",
        "520",
    ),
    (b"520-Invalid command syntax.\nUsage: glued520 End of proper usage.\n", "520"),
    (b"404 result=0 (what)\n", "404"),
]


def _kind(item: AgiReply | Notice | None) -> object:
    return str(item.code) if isinstance(item, AgiReply) else item


@PURE
@given(st.lists(st.sampled_from(REPLY_LINES), max_size=12))
def test_reply_streams_parse_in_order(picked: list[tuple[bytes, object]]) -> None:
    parser = ReplyParser()
    seen: list[object] = []
    for raw, _ in picked:
        for line in raw.splitlines(keepends=True):
            item = parser.feed_line(line)
            if item is not None:
                seen.append(_kind(item))
    assert seen == [kind for _, kind in picked if kind is not None]
    assert not parser.in_multiline


@PURE
@given(st.lists(st.binary(max_size=200), max_size=30), st.integers(200, 2_000))
def test_a_multi_line_reply_that_never_ends_is_capped(lines: list[bytes], cap: int) -> None:
    parser = ReplyParser(max_bytes=cap)
    parser.feed_line(b"520-Invalid command syntax.  Proper usage follows:\n")
    total = 0
    for line in lines:
        text = line.replace(b"\n", b"")
        if text.startswith(b"520"):
            return  # ends the reply: not what this test is about
        try:
            parser.feed_line(text + b"\n")
        except AgiProtocolError as exc:
            assert "longer than" in str(exc)
            return
        total += len(text) + 1
        assert total <= cap + 200


# -- the server, against a hostile Asterisk -------------------------------------------------


@dataclass(frozen=True)
class ReplyKind:
    """What the fake Asterisk answers to one command, and what the command must then do.

    `outcome` is the exception type the command must raise (None: it returns a reply);
    `usable` says whether the session may still carry commands afterwards.
    """

    name: str
    data: bytes
    outcome: type[BaseException] | None
    usable: bool
    close: bool = False  # hang up the connection after `data`
    silent: bool = False  # send nothing and wait past the command timeout


KINDS = [
    ReplyKind("ok", b"200 result=0\n", None, True),
    ReplyKind("ok-crlf-odd-bytes", b"200 result=1 (\xc3\x28\xff)\r\n", None, True),
    ReplyKind("provisional", b"100 result=0 Trying...\n200 result=0 Gosub complete\n", None, True),
    ReplyKind("unknown-code", b"302 result=0 (moved)\n", AgiError, True),
    ReplyKind("invalid", b"510 Invalid or unknown command\n", AgiError, True),
    ReplyKind(
        "usage",
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b"Usage: NOOP\n520 End of proper usage.\n",
        AgiError,
        True,
    ),
    ReplyKind("hangup-then-511", b"HANGUP\n511 Command Not Permitted\n", AgiHangup, False),
    ReplyKind("hangup-then-200", b"HANGUP\n200 result=0\n", AgiHangup, False),
    ReplyKind("garbage", b"\x00\xffnot a reply at all\n", AgiProtocolError, False),
    ReplyKind("oversized", b"200 result=1 (" + b"x" * 70_000 + b")\n", AgiProtocolError, False),
    ReplyKind("eof", b"", AgiHangup, False, close=True),
    ReplyKind("eof-mid-line", b"200 resu", AgiHangup, False, close=True),
    ReplyKind("silent", b"", AgiTimeout, False, silent=True),
]


Outcome = list[object]


def noop_handler(steps: int, outcomes: Outcome) -> Callable[[AgiSession], Awaitable[None]]:
    async def handler(session: AgiSession) -> None:
        for _ in range(steps):
            try:
                outcomes.append(await session.command("NOOP"))
            except (AgiHangup, AgiError, AgiProtocolError) as exc:
                outcomes.append(exc)
        # Whatever happened, the handler returns (or raises) and the server closes the call.

    return handler


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *(c for c in cuts if c < len(data)), len(data)]
    return [data[a:b] for a, b in pairwise(bounds) if a < b]


async def play_asterisk(
    port: int, kinds: list[ReplyKind], cuts: list[int], header_bytes: bytes
) -> list[bytes]:
    """Connect, send the environment, answer each command as scripted; return the commands."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    commands: list[bytes] = []
    try:
        writer.write(header_bytes)
        await writer.drain()
        for kind in kinds:
            line = await reader.readline()
            if not line:
                break  # the server ended the call
            commands.append(line)
            if kind.silent:
                await asyncio.sleep(COMMAND_TIMEOUT * 2)
                continue
            for piece in split(kind.data, cuts):  # wherever hypothesis cuts: must not matter
                writer.write(piece)
                await writer.drain()
            if kind.close:
                break
        else:
            # Drain what the server still sends until it closes; a reset is a close too.
            with contextlib.suppress(ConnectionError):
                while await reader.read(65536):
                    pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return commands


def expected(kinds: list[ReplyKind]) -> list[type[BaseException] | None]:
    """The outcome of each NOOP: the scripted kind's, until the session is unusable; after
    that every command is refused at once with `AgiHangup`, nothing being sent."""
    out: list[type[BaseException] | None] = []
    usable = True
    for kind in kinds:
        if not usable:
            out.append(AgiHangup)
            continue
        out.append(kind.outcome)
        usable = kind.usable
    return out


async def run_scenario(
    kinds: list[ReplyKind], cuts: list[int], header_bytes: bytes = header()
) -> tuple[Outcome, list[bytes], Outcome]:
    outcomes: Outcome = []
    later: Outcome = []
    routes = {"ivr": noop_handler(len(kinds), outcomes), "next": noop_handler(1, later)}
    server = FastAgiServer(routes, port=0, command_timeout=COMMAND_TIMEOUT, header_timeout=1.0)
    async with asyncio.timeout(SCENARIO_LIMIT):
        await server.start()
        try:
            commands = await play_asterisk(server.port, kinds, cuts, header_bytes)
            # The same server serves the next call as if nothing had happened.
            env = [(k, v.replace("ivr", "next")) for k, v in ENV]
            follow = await play_asterisk(server.port, [KINDS[0]], [], header(env))
            assert follow == [b"NOOP\n"]
        finally:
            await server.close()
    return outcomes, commands, later


@SERVER
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 80), max_size=5).map(lambda c: sorted(set(c))),
)
def test_any_sequence_of_replies_ends_the_call_cleanly(
    kinds: list[ReplyKind], cuts: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    outcomes, commands, later = asyncio.run(run_scenario(kinds, cuts))
    assert [type(o) if isinstance(o, BaseException) else None for o in outcomes] == expected(kinds)
    # Commands reached the wire while the session could carry them, and not after.
    unusable = [n for n, kind in enumerate(kinds) if not kind.usable]
    assert len(commands) == (unusable[0] + 1 if unusable else len(kinds))
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            assert str(outcome), type(outcome)  # a clear error, never a bare exception
        else:
            assert isinstance(outcome, AgiReply) and outcome.code == 200
    assert len(later) == 1 and isinstance(later[0], AgiReply)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("payload", "logged"),
    [
        pytest.param(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 3, "dropped", id="tls-hello"
        ),
        pytest.param(b"SSH-2.0-OpenSSH_9.2\r\n" + header(), "dropped", id="garbage-before-header"),
        pytest.param(
            header()[:-1] + b"agi_arg_1: " + b"9" * 70_000 + b"\n\n", "dropped", id="oversized-line"
        ),
        pytest.param(b"agi_x: y\n" * 8_000, "dropped", id="oversized-header"),
        pytest.param(header()[:57], "dropped", id="eof-mid-header"),
        pytest.param(
            header([("agi_network", "yes"), ("agi_request", "agi://x/nowhere")]),
            "no route",
            id="unknown-route",
        ),
    ],
)
async def test_bad_callers_are_dropped_with_a_reason_and_the_next_is_served(
    payload: bytes, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="acd.agi")
    later: Outcome = []
    server = FastAgiServer({"ivr": noop_handler(1, later)}, port=0, header_timeout=1.0)
    async with asyncio.timeout(SCENARIO_LIMIT):
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            with contextlib.suppress(ConnectionError):
                writer.write(payload)
                await writer.drain()
                writer.write_eof()
                assert await reader.read() == b""  # nothing was run for it
            writer.close()
            assert await play_asterisk(server.port, [KINDS[0]], [], header()) == [b"NOOP\n"]
        finally:
            await server.close()
    assert logged in caplog.text
    assert len(later) == 1 and isinstance(later[0], AgiReply)


async def test_header_sent_one_byte_at_a_time_is_served() -> None:
    later: Outcome = []
    server = FastAgiServer({"ivr": noop_handler(1, later)}, port=0, header_timeout=5.0)
    async with asyncio.timeout(SCENARIO_LIMIT):
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            for byte in header(eol=b"\r\n"):
                writer.write(bytes([byte]))
                await writer.drain()
            assert await reader.readline() == b"NOOP\n"
            writer.write(b"200 result=0\n")
            await writer.drain()
            assert await reader.read() == b""
            writer.close()
        finally:
            await server.close()
    assert len(later) == 1 and isinstance(later[0], AgiReply)
