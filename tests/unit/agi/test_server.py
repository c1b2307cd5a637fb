"""The FastAGI server against a scripted fake Asterisk on a real loopback socket: routing, bad
peers, stalled headers, failing handlers and shutdown each cost one call at most."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from acd.agi import (
    AgiSession,
)
from tests.unit.agi.fake_asterisk import DEAD, WAIT, FakeAsterisk, Start, recorded, result


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
