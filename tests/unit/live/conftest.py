"""A core on a manual clock whose steps go through the event mapper, and a real mosquitto."""

from __future__ import annotations

import asyncio
import getpass
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest

from acd.clock import ManualClock
from acd.config import Config
from acd.core import events as ev
from acd.core.decisions import Decision
from acd.core.driver import Driver
from acd.labhost import free_port
from acd.live.messages import MessageMapper
from acd.live.topics import Message
from tests.unit.site import centre_config

MOSQUITTO = "/usr/sbin/mosquitto"
CALL = "1700000000.1"
CALLER = "13800138000"


@pytest.fixture(scope="session")
def config() -> Config:
    """The core tests' centre, built in code: an ops edit of dialplans/ moves no test here."""
    return centre_config()


class Centre:
    """The real core, fed events like the engine does, each step mapped to messages."""

    def __init__(self, config: Config) -> None:
        self.clock = ManualClock()
        self.driver = Driver(config, self.clock, [self._observe])
        self.core = self.driver.core
        self.mapper = MessageMapper("acd")
        self.messages: list[Message] = []
        self.steps: list[tuple[ev.Event, list[Decision], float]] = []
        self._mapped: list[Message] = []

    def _observe(self, event: ev.Event, decisions: list[Decision], now: float) -> None:
        self.steps.append((event, decisions, now))
        self._mapped = self.mapper(event, decisions, now)
        self.messages.extend(self._mapped)

    def send(self, event: ev.Event) -> list[Message]:
        """One step of the consumer; the messages it was mapped to."""
        self.driver.send(event)
        return self._mapped

    def wait(self, seconds: float) -> list[Message]:
        self.clock.advance(seconds)
        return self.send(ev.Tick())

    def ready(self, *agents: str) -> None:
        for agent in agents:
            self.send(ev.DeviceState(agent, "NOT_INUSE"))
            self.send(ev.AgentLogin(agent))

    def call(self, call_id: str = CALL, queue: str = "general") -> list[Message]:
        return self.send(ev.CallEntered(call_id, f"PJSIP/callers-{call_id}", CALLER, "home", queue))


@pytest.fixture
def centre(config: Config) -> Centre:
    return Centre(config)


class Broker:
    """mosquitto on a free loopback port, with its own config and log in `base`.

    Persistence is on and saved at every change, so a subscriber's session (clean_session
    off, QoS 1) survives the broker being killed: what the publisher sends after the restart
    but before the subscriber is back still reaches it.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.conf = base / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {base}/\n"
            "autosave_interval 1\n"
            "autosave_on_changes true\n"
            # Started as root, mosquitto would switch to its own user and could not save
            # into this test's folder; as anyone else it ignores this.
            f"user {getpass.getuser()}\n",
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.base / "mosquitto.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.base / "mosquitto.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("mosquitto did not listen within 10 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def saved(self) -> bool:
        return (self.base / "mosquitto.db").exists()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


class Subscriber:
    """An aiomqtt client on `acd/#` that keeps what arrives, in order."""

    def __init__(self, broker: Broker, identifier: str = "test-subscriber") -> None:
        self.broker = broker
        self.identifier = identifier
        self.received: list[aiomqtt.Message] = []
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._subscribed.clear()
        self._task = asyncio.create_task(self._run())
        async with asyncio.timeout(10):
            await self._subscribed.wait()

    async def _run(self) -> None:
        async with aiomqtt.Client(
            "127.0.0.1", self.broker.port, identifier=self.identifier, clean_session=False
        ) as client:
            await client.subscribe("acd/#", qos=1)
            self._subscribed.set()
            async for message in client.messages:
                self.received.append(message)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def types(self, topic_prefix: str = "acd/") -> list[tuple[str, str]]:
        """(topic, payload type) of what arrived under `topic_prefix`, in order."""
        import json

        out = []
        for message in self.received:
            topic = str(message.topic)
            if topic.startswith(topic_prefix) and isinstance(message.payload, bytes):
                out.append((topic, json.loads(message.payload)["type"]))
        return out

    async def until(self, check: Callable[[], bool], within: float = 10.0) -> None:
        await until(check, within)


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `check` until true; fail after `within` seconds (a bound, never a pace)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"not true within {within}s: {check}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def subscriber(broker: Broker) -> AsyncIterator[Subscriber]:
    sub = Subscriber(broker)
    await sub.start()
    try:
        yield sub
    finally:
        await sub.stop()
