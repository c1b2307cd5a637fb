"""The FastAGI server against a scripted fake Asterisk on a real loopback socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import pytest

from acd.agi import (
    AgiCommandFailed,
    AgiError,
    AgiHangup,
    AgiSession,
    AgiTimeout,
    FastAgiServer,
    Handler,
)

WAIT = 2.0  # generous per-step limit; every step normally takes milliseconds
DEAD = "511 Command Not Permitted on a dead channel or intercept routine"


def header(script: str = "ivr?hotline=home", uniqueid: str = "1700000000.1") -> bytes:
    return (
        "agi_network: yes\n"
        f"agi_network_script: {script}\n"
        f"agi_request: agi://127.0.0.1:4573/{script}\n"
        "agi_channel: PJSIP/trunk-00000001\n"
        f"agi_uniqueid: {uniqueid}\n"
        "agi_callerid: 0301234567\n"
        "agi_calleridname: unknown\n"
        "agi_context: from-trunk\n"
        "agi_extension: 8000\n"
        "agi_priority: 2\n"
        "agi_arg_1: first\n"
        "\n"
    ).encode()


class FakeAsterisk:
    """Plays res_agi's side of one call, one scripted line at a time."""

    opened: ClassVar[list[FakeAsterisk]] = []

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.opened.append(self)

    @classmethod
    async def call(
        cls, server: FastAgiServer, script: str = "ivr?hotline=home", extra: bytes = b""
    ) -> FakeAsterisk:
        fake = await cls.open(server)
        await fake.send(header(script) + extra)
        return fake

    @classmethod
    async def open(cls, server: FastAgiServer) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        return cls(reader, writer)

    async def send(self, data: bytes | str) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)
        await self.writer.drain()

    async def expect(self, command: str, *replies: str) -> None:
        line = await asyncio.wait_for(self.reader.readline(), WAIT)
        assert line.decode() == command + "\n"
        if replies:
            await self.send("".join(f"{r}\n" for r in replies))

    async def closed(self) -> bytes:
        """Everything the server still sends before it closes the connection."""
        try:
            return await asyncio.wait_for(self.reader.read(), WAIT)
        except ConnectionResetError:
            return b""

    def close(self) -> None:
        self.writer.close()


Outcome = asyncio.Queue[object]


def recorded(handler: Callable[[AgiSession], Awaitable[object]]) -> tuple[Handler, Outcome]:
    """Wrap a handler so the test sees what it returned or raised."""
    outcome: Outcome = asyncio.Queue()

    async def wrapper(session: AgiSession) -> None:
        try:
            value = await handler(session)
        except Exception as exc:
            outcome.put_nowait(exc)
            raise
        outcome.put_nowait(value)

    return wrapper, outcome


async def result(outcome: Outcome) -> Any:
    return await asyncio.wait_for(outcome.get(), WAIT)


Start = Callable[..., Awaitable[FastAgiServer]]


@pytest.fixture(autouse=True)
async def close_fakes() -> AsyncIterator[None]:
    yield
    while FakeAsterisk.opened:
        fake = FakeAsterisk.opened.pop()
        fake.close()
        with contextlib.suppress(OSError):
            await fake.writer.wait_closed()


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    servers: list[FastAgiServer] = []

    async def start(routes: dict[str, Handler], **kwargs: Any) -> FastAgiServer:
        server = FastAgiServer(routes, port=0, **kwargs)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


async def test_normal_session(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        await session.answer()
        digits, timed_out = await session.get_data("ivr/enter-number", 3000, 4)
        await session.set_variable("ACD_DIGITS", digits)
        return session.request, digits, timed_out, session.hung_up

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect("ANSWER", "200 result=0")
    await asterisk.expect('GET DATA "ivr/enter-number" 3000 4', "200 result=1234")
    await asterisk.expect('SET VARIABLE "ACD_DIGITS" "1234"', "200 result=1")
    assert await asterisk.closed() == b""  # handler returned: the dialplan continues

    request, digits, timed_out, hung_up = await result(outcome)
    assert (request.script, request.params, request.args) == ("ivr", {"hotline": "home"}, ["first"])
    assert request.channel == "PJSIP/trunk-00000001"
    assert (digits, timed_out, hung_up) == ("1234", False, False)


async def test_other_commands(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        values: list[object] = [
            await session.stream_file("welcome", "12#"),
            await session.get_data("menu", 2000, 3),
            await session.wait_for_digit(1000),
            await session.wait_for_digit(1000),
            await session.get_variable("CALLERID(name)"),
            await session.get_variable("UNSET"),
            (await session.exec("Set", "CDR(userfield)=a,b")).result,
        ]
        await session.verbose('said "hi"', 3)
        await session.hangup()
        await session.hangup()  # already gone: nothing sent, no error
        return [*values, session.hung_up]

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect('STREAM FILE "welcome" "12#"', "200 result=50 endpos=8000")
    await asterisk.expect('GET DATA "menu" 2000 3', "200 result=7 (timeout)")
    await asterisk.expect("WAIT FOR DIGIT 1000", "200 result=42")
    await asterisk.expect("WAIT FOR DIGIT 1000", "200 result=0")
    await asterisk.expect('GET VARIABLE "CALLERID(name)"', "200 result=1 (Erika (work))")
    await asterisk.expect('GET VARIABLE "UNSET"', "200 result=0")
    await asterisk.expect('EXEC Set "CDR(userfield)=a,b"', "200 result=0")
    await asterisk.expect('VERBOSE "said \\"hi\\"" 3', "200 result=1")
    await asterisk.expect("HANGUP", "200 result=1", "HANGUP")
    assert await asterisk.closed() == b""
    assert await result(outcome) == ["2", ("7", True), "*", "", "Erika (work)", None, "0", True]


async def test_exec_results(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        with pytest.raises(AgiCommandFailed, match="no such application"):
            await session.exec("NoSuchApp")
        reply = await session.exec("Playback", "missing")  # -1, but the channel is up
        with pytest.raises(AgiHangup):
            await session.exec("Dial", "PJSIP/agent1,20")  # -1 because the caller left
        return reply.result

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect("EXEC NoSuchApp", "200 result=-2")
    await asterisk.expect('EXEC Playback "missing"', "200 result=-1")
    await asterisk.expect("CHANNEL STATUS", "200 result=6")
    await asterisk.expect('EXEC Dial "PJSIP/agent1,20"', "200 result=-1")
    await asterisk.expect("CHANNEL STATUS", "HANGUP", DEAD)
    assert await result(outcome) == "-1"


async def test_routes_on_the_script_path_not_its_query(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    async def ivr(session: AgiSession) -> object:
        return "ivr"

    async def queue(session: AgiSession) -> object:
        return session.request.script, session.request.params

    ivr_handler, ivr_outcome = recorded(ivr)
    queue_handler, queue_outcome = recorded(queue)
    server = await start({"ivr": ivr_handler, "/queue/": queue_handler})

    asterisk = await FakeAsterisk.call(server, "queue/?hotline=sales&prio=2")
    assert await asterisk.closed() == b""
    assert await result(queue_outcome) == ("queue", {"hotline": "sales", "prio": "2"})

    asterisk = await FakeAsterisk.call(server, "nowhere?hotline=home")
    assert await asterisk.closed() == b""  # nothing sent: Asterisk just carries on
    assert "no route for script 'nowhere'" in caplog.text
    assert ivr_outcome.empty() and queue_outcome.empty()


async def test_hangup_before_the_reply(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        with pytest.raises(AgiHangup) as first:
            await session.stream_file("welcome", "1")
        hung_up = session.hung_up
        with pytest.raises(AgiHangup, match="already hung up"):
            await session.answer()  # refused without a byte on the wire
        assert first.value.reply is not None
        return hung_up, first.value.reply.code

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect('STREAM FILE "welcome" "1"', "HANGUP", DEAD)
    assert await asterisk.closed() == b""
    assert await result(outcome) == (True, 511)


async def test_hangup_before_a_reply_allowed_on_dead_channels(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        try:
            await session.get_variable("QUEUESTATUS")
        except AgiHangup as exc:
            return exc.reply
        return None

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect('GET VARIABLE "QUEUESTATUS"', "HANGUP", "200 result=1 (TIMEOUT)")
    reply = await result(outcome)
    assert (reply.code, reply.data) == (200, "TIMEOUT")


async def test_hangup_between_commands_and_right_after_the_header(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        try:
            await session.answer()
        except AgiHangup:
            return "first"
        try:
            await session.answer()
        except AgiHangup:
            return "second"
        return "none"

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})

    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect("ANSWER", "200 result=0", "HANGUP")
    await asterisk.expect("ANSWER", DEAD)
    assert await result(outcome) == "second"

    asterisk = await FakeAsterisk.call(server, extra=b"HANGUP\n")  # same segment as the header
    await asterisk.expect("ANSWER", DEAD)
    assert await result(outcome) == "first"


async def test_eof_instead_of_a_reply(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        with pytest.raises(AgiHangup, match="closed the connection"):
            await session.answer()
        return session.hung_up

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect("ANSWER", "HANGUP")  # AGIEXITONHANGUP: no reply, just gone
    asterisk.close()
    assert await result(outcome) is True


async def test_result_minus_one_is_checked_against_the_channel(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        with pytest.raises(AgiCommandFailed, match="STREAM FILE 'missing' failed"):
            await session.stream_file("missing")
        with pytest.raises(AgiHangup, match="channel hung up"):
            await session.stream_file("welcome")
        return session.hung_up

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect('STREAM FILE "missing" ""', "200 result=-1 endpos=0")
    await asterisk.expect("CHANNEL STATUS", "200 result=6")
    await asterisk.expect('STREAM FILE "welcome" ""', "200 result=-1 endpos=4000")
    await asterisk.expect("CHANNEL STATUS", "HANGUP", "200 result=6")
    assert await result(outcome) is True


async def test_usage_error_keeps_the_session_usable(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        with pytest.raises(AgiError) as usage:
            await session.command("STREAM FILE")
        with pytest.raises(AgiError, match="510 Invalid or unknown command"):
            await session.command("FROBNICATE")
        await session.verbose("still here")
        assert usage.value.reply is not None
        return str(usage.value), usage.value.reply.usage

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect(
        "STREAM FILE",
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: STREAM FILE <filename> <escape_digits> [sample offset]",
        "  Send the given file, allowing playback to be interrupted by the given digits.",
        "520 End of proper usage.",
    )
    await asterisk.expect("FROBNICATE", "510 Invalid or unknown command")
    await asterisk.expect('VERBOSE "still here" 1', "200 result=1")
    message, usage = await result(outcome)
    assert "Usage: STREAM FILE <filename>" in message
    assert usage.splitlines() == [
        " Usage: STREAM FILE <filename> <escape_digits> [sample offset]",
        "  Send the given file, allowing playback to be interrupted by the given digits.",
    ]


async def test_command_timeout_leaves_the_session_closed(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        with pytest.raises(AgiTimeout):
            await session.answer()
        with pytest.raises(AgiHangup, match="no reply within"):
            await session.verbose("too late")
        return session.hung_up

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler}, command_timeout=0.1)
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect("ANSWER")  # and never answer
    assert await result(outcome) is False
    assert await asterisk.closed() == b""


async def test_commands_are_never_interleaved(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        await asyncio.gather(session.verbose("one"), session.verbose("two"))
        return None

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    first = await asyncio.wait_for(asterisk.reader.readline(), WAIT)
    with pytest.raises(TimeoutError):  # the second waits for the first reply
        await asyncio.wait_for(asterisk.reader.readline(), 0.05)
    await asterisk.send("200 result=1\n")
    second = await asyncio.wait_for(asterisk.reader.readline(), WAIT)
    await asterisk.send("200 result=1\n")
    assert {first, second} == {b'VERBOSE "one" 1\n', b'VERBOSE "two" 1\n'}
    assert await result(outcome) is None


async def test_unsafe_arguments_are_refused_before_sending(start: Start) -> None:
    async def ivr(session: AgiSession) -> object:
        with pytest.raises(ValueError):
            await session.set_variable("X", "line\nANSWER")
        with pytest.raises(ValueError):
            await session.exec("Set X=1")
        with pytest.raises(ValueError):
            await session.stream_file("welcome", "1x")
        await session.set_variable("X", 'a "b" \\ c')
        return None

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect('SET VARIABLE "X" "a \\"b\\" \\\\ c"', "200 result=1")
    assert await result(outcome) is None


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"", id="immediate-eof"),
        pytest.param(b"agi_network: yes\n", id="eof-mid-header"),
        pytest.param(b"agi_network: ye", id="eof-mid-line"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n", id="http"),
        pytest.param(b"agi_network: yes\nagi_\xff: x\n\n", id="not-utf8-key"),
        pytest.param(b"agi_network: yes\nagi_x: " + b"a" * 70_000 + b"\n", id="oversized"),
    ],
)
async def test_bad_clients_cost_only_their_connection(
    start: Start, caplog: pytest.LogCaptureFixture, payload: bytes
) -> None:
    async def ivr(session: AgiSession) -> object:
        await session.answer()
        return session.request.uniqueid

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})

    bad = await FakeAsterisk.open(server)
    try:
        await bad.send(payload)
        bad.writer.write_eof()
    except ConnectionResetError:
        pass  # the server may already have dropped an oversized header
    assert await bad.closed() == b""

    good = await FakeAsterisk.call(server)
    await good.expect("ANSWER", "200 result=0")
    assert await result(outcome) == "1700000000.1"
    assert "dropped" in caplog.text or "lost" in caplog.text


async def test_header_timeout(start: Start, caplog: pytest.LogCaptureFixture) -> None:
    server = await start({}, header_timeout=0.1)
    slow = await FakeAsterisk.open(server)
    await slow.send(b"agi_network: yes\n")  # and then nothing more
    began = time.monotonic()
    assert await slow.closed() == b""
    assert time.monotonic() - began < 1.0
    assert "no complete AGI environment within 0.1 s" in caplog.text


async def test_failing_handler_does_not_kill_the_server(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    async def ivr(session: AgiSession) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        await session.answer()
        return calls

    handler, outcome = recorded(ivr)
    server = await start({"ivr": handler})

    first = await FakeAsterisk.call(server)
    assert await first.closed() == b""
    assert isinstance(await result(outcome), RuntimeError)
    assert "boom" in caplog.text
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)

    second = await FakeAsterisk.call(server)
    await second.expect("ANSWER", "200 result=0")
    assert await result(outcome) == 2


async def test_hangup_in_handler_is_logged_quietly(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="acd.agi")

    async def ivr(session: AgiSession) -> None:
        await session.answer()

    server = await start({"ivr": ivr})
    asterisk = await FakeAsterisk.call(server)
    await asterisk.expect("ANSWER", "HANGUP", DEAD)
    assert await asterisk.closed() == b""
    await asyncio.sleep(0.01)
    records = [r for r in caplog.records if "ended by hangup" in r.getMessage()]
    assert [r.levelno for r in records] == [logging.DEBUG]


async def test_close_ends_calls_in_progress(start: Start) -> None:
    entered = asyncio.Event()

    async def ivr(session: AgiSession) -> None:
        entered.set()
        await asyncio.Event().wait()

    server = await start({"ivr": ivr})
    asterisk = await FakeAsterisk.call(server)
    await asyncio.wait_for(entered.wait(), WAIT)
    await asyncio.wait_for(server.close(), WAIT)
    assert await asterisk.closed() == b""
    with pytest.raises(RuntimeError):
        _ = server.port
