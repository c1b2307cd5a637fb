"""Fixtures for the FastAGI tests: servers on free ports, fake Asterisks closed after each test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from acd.agi import FastAgiServer, Handler
from tests.unit.agi.fake_asterisk import FakeAsterisk, Start


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
