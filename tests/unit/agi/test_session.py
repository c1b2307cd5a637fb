"""One call's AGI conversation against a scripted fake Asterisk on a real loopback socket:
replies judged, hang-ups told from failures, one command in flight, nothing unsafe sent."""

from __future__ import annotations

import asyncio

import pytest

from acd.agi import (
    AgiCommandFailed,
    AgiError,
    AgiHangup,
    AgiSession,
    AgiTimeout,
)
from tests.unit.agi.fake_asterisk import DEAD, WAIT, FakeAsterisk, Start, recorded, result


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
