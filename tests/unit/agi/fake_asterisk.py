"""A scripted fake Asterisk for the FastAGI tests: res_agi's side of a call on a real loopback
socket, one line at a time, and a way to see what a handler returned or raised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from acd.agi import AgiSession, FastAgiServer, Handler

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
"""The `start` fixture: a FastAGI server on a free port for these routes, closed after the test."""
