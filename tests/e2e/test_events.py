"""Events of a real call on MQTT (issue: events and metrics): a SIPp caller presses 1, a SIPp
agent answers, and a subscriber on a real mosquitto sees the documented sequence, with the
screen pop on the agent's own topic (docs/events.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from acd.labhost import free_port
from acd.privacy import mask_number
from tests.e2e.conftest import EngineProcess, connected, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password

pytestmark = pytest.mark.e2e

MOSQUITTO = "/usr/sbin/mosquitto"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    """mosquitto on a free loopback port; yields the port."""
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n", encoding="utf-8")
    with (tmp_path / "mosquitto.log").open("ab") as log:
        proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "mosquitto did not listen"
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def events_config(lab_dir: Path, base: Path, port: int) -> Path:
    """A copy of the lab's config (same state dir and secrets) with `engine.mqtt` added:
    the `engine` fixture renders no MQTT settings, so this test runs its own engine."""
    conf = base / "dialplans"
    conf.mkdir()
    for source in sorted(lab_dir.glob("*.yaml")):
        data: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
        if "engine" in data:
            data["engine"]["mqtt"] = {"url": f"mqtt://127.0.0.1:{port}", "topic_prefix": "acd"}
        (conf / source.name).write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return conf


@pytest.fixture
async def events_engine(lab_dir: Path, broker: int, tmp_path: Path) -> AsyncIterator[EngineProcess]:
    """The e2e engine publishing to `broker`."""
    conf = events_config(lab_dir, tmp_path, broker)
    proc = EngineProcess(conf, tmp_path / "acd.db", tmp_path / "engine.log")
    proc.start()
    try:
        await eventually(lambda: connected(proc), within=30)
        yield proc
    finally:
        proc.stop()


class Seen:
    """Everything published under acd/#, in arrival order, decoded."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [payload for t, payload in self.messages if t == topic]

    def call_id_of(self, caller: str) -> str | None:
        masked = mask_number(caller)
        for topic, payload in self.messages:
            if topic.startswith("acd/calls/") and payload.get("caller") == masked:
                return str(payload["call_id"])
        return None


@contextlib.asynccontextmanager
async def subscribed(port: int) -> AsyncIterator[Seen]:
    seen = Seen()
    async with aiomqtt.Client("127.0.0.1", port, identifier="e2e-events") as client:
        await client.subscribe("acd/#", qos=1)

        async def collect() -> None:
            async for message in client.messages:
                if isinstance(message.payload, bytes):
                    seen.messages.append((str(message.topic), json.loads(message.payload)))

        task = asyncio.create_task(collect())
        try:
            yield seen
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_call_is_entered_offered_with_a_screen_pop_answered_and_ended_on_mqtt(
    events_engine: EngineProcess, broker: int, secrets: dict[str, Any]
) -> None:
    caller = "13800138801"
    async with (
        subscribed(broker) as seen,
        SippAgent("1001", password(secrets, "1001"), answer_delay_ms=1500, talk_ms=3000),
    ):
        await eventually(lambda: events_engine.agent("1001")["device"] == "NOT_INUSE")
        call = await place_call("100", caller, dtmf="1", pre_dtmf_ms=1500, max_ms=30000)
        assert call.answered and call.ended_by == "remote", call.run.describe()
        call_id = await eventually(lambda: seen.call_id_of(caller))
        topic = f"acd/calls/{call_id}"
        await eventually(lambda: any(p["type"] == "call.ended" for p in seen.on(topic)))
        await eventually(lambda: bool(seen.on("acd/agents/1001/offer")))

    types = [p["type"] for p in seen.on(topic)]
    assert types == ["call.entered", "call.offered", "call.answered", "call.ended"], types
    entered, offered, answered, ended = seen.on(topic)
    assert (entered["queue"], entered["hotline"], entered["caller"]) == (
        "general",
        "home",
        mask_number(caller),
    )
    assert (offered["agent"], offered["offer"]) == ("1001", 1)
    assert answered["agent"] == "1001"
    assert (ended["disposition"], ended["hangup_side"]) == ("answered", "agent")
    # The queue's topic tells the wallboard the same story.
    queue_types = [p["type"] for p in seen.on("acd/queues/general") if p["call_id"] == call_id]
    assert queue_types == types
    # The screen pop: the whole number, the IVR choice, and the history field.
    (pop,) = [p for p in seen.on("acd/agents/1001/offer") if p["call_id"] == call_id]
    assert (pop["caller"], pop["queue"], pop["hotline"]) == (caller, "general", "home")
    assert pop["ivr_choices"] == ["1"], pop
    assert "history" in pop
    states = [(p["old"], p["new"]) for p in seen.on("acd/agents/1001/state")]
    assert ("ready", "reserved") in states and ("reserved", "on-call") in states
    # Nothing broadcast carries the caller's whole number.
    for topic_name, payload in seen.messages:
        if not topic_name.endswith("/offer"):
            assert caller not in json.dumps(payload), topic_name


async def test_with_the_broker_down_the_engine_keeps_routing(
    lab_dir: Path, tmp_path: Path, secrets: dict[str, Any]
) -> None:
    """MQTT is for onlookers: a broker that is gone (nothing listens on its port) costs
    events, never calls."""
    conf = events_config(lab_dir, tmp_path, free_port())
    proc = EngineProcess(conf, tmp_path / "acd.db", tmp_path / "engine.log")
    proc.start()
    try:
        await eventually(lambda: connected(proc), within=30)
        caller = "13800138802"
        async with SippAgent("1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=1500):
            await eventually(lambda: proc.agent("1001")["device"] == "NOT_INUSE")
            call = await place_call("100", caller, dtmf="1", max_ms=30000)
            assert call.answered and call.ended_by == "remote", call.run.describe()
        row = await eventually(
            lambda: next((r for r in proc.calls() if r["caller"] == caller and r["ended_at"]), None)
        )
        assert (row["disposition"], row["agent"]) == ("answered", "1001")
        assert "Traceback" not in proc.log()
    finally:
        proc.stop()
