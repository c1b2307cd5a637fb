"""The publisher against a real mosquitto: order, screen pops, outages, and a full queue.

The engine's rule: it never waits for the broker. So the observer only enqueues, the queue is
bounded (oldest dropped, counted) and a broker that dies and comes back gets what was queued.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from acd.config import Config
from acd.config.adapters import MqttSettings
from acd.core import events as ev
from acd.core.decisions import CallRecord
from acd.live.broker import broker_address, read_password
from acd.live.mqtt import MqttPublisher, database_lookups
from acd.live.topics import Message
from acd.records.items import IvrPath
from acd.records.migrate import upgrade_async
from acd.records.store import Records
from acd.records.writer import RecordWriter
from tests.unit.live.conftest import (
    CALL,
    CALLER,
    Broker,
    Centre,
    Subscriber,
    free_port,
    until,
)

CALL_TOPIC = "acd/calls/1700000000.1"
HISTORY = {"calls": 2, "history": [{"call_id": "1699999000.5", "agent": "1002"}]}


def settings(url: str, **kw: Any) -> MqttSettings:
    return MqttSettings(url=url, publish_timeout=1.0, screen_pop_timeout=0.5, **kw)


async def ivr_path(call_id: str) -> str | None:
    return "main/1" if call_id == CALL else None


async def history(number: str) -> dict[str, Any] | None:
    return HISTORY if number == CALLER else None


async def never(_key: str) -> Any:
    await asyncio.Event().wait()


async def broken(_key: str) -> Any:
    raise OSError("database is locked")


class Running:
    """A publisher whose task runs for the test; closed (and awaited) at the end."""

    def __init__(self, publisher: MqttPublisher) -> None:
        self.publisher = publisher
        self.task = asyncio.create_task(publisher.run())

    async def close(self) -> None:
        await self.publisher.close(flush_within=2.0)
        async with asyncio.timeout(5):
            await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def running(broker: Broker) -> AsyncIterator[Running]:
    run = Running(
        MqttPublisher(
            settings(broker.url),
            ivr_path=ivr_path,
            history=history,
            backoff_initial=0.05,
            backoff_max=0.2,
        )
    )
    try:
        yield run
    finally:
        await run.close()


def feed(centre: Centre, publisher: MqttPublisher, since: int = 0) -> int:
    """Hand the centre's steps from `since` on to the publisher, like the engine's observer."""
    for event, decisions, now in centre.steps[since:]:
        publisher.observe(event, decisions, now)
    return len(centre.steps)


def payloads(sub: Subscriber, topic: str) -> list[dict[str, Any]]:
    out = []
    for message in sub.received:
        if str(message.topic) == topic and isinstance(message.payload, bytes):
            out.append(json.loads(message.payload))
    return out


async def test_a_subscriber_sees_a_full_call_in_order_with_the_screen_pop(
    centre: Centre, running: Running, subscriber: Subscriber
) -> None:
    centre.ready("1001")
    centre.call()
    centre.send(ev.OfferAnswered(CALL, "1001"))
    centre.clock.advance(30)
    centre.send(ev.AgentLegHungUp(CALL, "1001"))
    feed(centre, running.publisher)

    def call_types() -> list[str]:
        return [p["type"] for p in payloads(subscriber, CALL_TOPIC)]

    def queue_types() -> list[str]:
        return [p["type"] for p in payloads(subscriber, "acd/queues/general")]

    def states() -> list[tuple[str, str]]:
        return [(p["old"], p["new"]) for p in payloads(subscriber, "acd/agents/1001/state")]

    await subscriber.until(lambda: len(call_types()) == len(queue_types()) == len(states()) == 4)
    assert call_types() == ["call.entered", "call.offered", "call.answered", "call.ended"]
    assert queue_types() == ["call.entered", "call.offered", "call.answered", "call.ended"]
    await subscriber.until(lambda: bool(payloads(subscriber, "acd/agents/1001/offer")))
    (pop,) = payloads(subscriber, "acd/agents/1001/offer")
    assert (pop["caller"], pop["queue"], pop["wait_seconds"]) == (CALLER, "general", 0.0)
    assert (pop["ivr_path"], pop["ivr_choices"], pop["history"]) == ("main/1", ["1"], HISTORY)
    assert states() == [
        ("logged-out", "ready"),
        ("ready", "reserved"),
        ("reserved", "on-call"),
        ("on-call", "wrap-up"),
    ]
    assert payloads(subscriber, "acd/engine")[0]["online"] is True
    assert running.publisher.dropped == 0


async def test_the_screen_pop_goes_without_what_the_database_did_not_answer_in_time(
    centre: Centre, broker: Broker, subscriber: Subscriber
) -> None:
    publisher = MqttPublisher(
        MqttSettings(url=broker.url, screen_pop_timeout=0.1), ivr_path=broken, history=never
    )
    run = Running(publisher)
    try:
        centre.ready("1001")
        centre.call()
        feed(centre, publisher)
        await subscriber.until(lambda: bool(payloads(subscriber, "acd/agents/1001/offer")))
    finally:
        await run.close()
    (pop,) = payloads(subscriber, "acd/agents/1001/offer")
    assert (pop["caller"], pop["ivr_path"], pop["history"]) == (CALLER, None, None)


async def test_after_the_broker_is_killed_and_restarted_later_messages_arrive(
    centre: Centre, broker: Broker, running: Running, subscriber: Subscriber
) -> None:
    publisher = running.publisher
    # The subscriber's session is saved, so it gets what is sent while it reconnects too.
    await subscriber.until(broker.saved)
    centre.ready("1001")
    seen = feed(centre, publisher)
    await subscriber.until(lambda: bool(payloads(subscriber, "acd/agents/1001/state")))

    broker.kill()
    await subscriber.stop()
    await subscriber.until(lambda: publisher.connect_failures >= 1)
    # During the outage the engine goes on; the observer neither blocks nor raises.
    centre.call()
    centre.send(ev.OfferAnswered(CALL, "1001"))
    seen = feed(centre, publisher, seen)
    assert publisher.queued > 0 and not publisher.connected
    await subscriber.until(lambda: publisher.connect_failures >= 2)  # it keeps trying

    broker.start()
    again = Subscriber(broker)
    await again.start()
    try:
        centre.clock.advance(20)
        centre.send(ev.AgentLegHungUp(CALL, "1001"))
        feed(centre, publisher, seen)
        await again.until(lambda: len(payloads(again, CALL_TOPIC)) == 4)
        types = [p["type"] for p in payloads(again, CALL_TOPIC)]
        assert types == ["call.entered", "call.offered", "call.answered", "call.ended"]
        assert publisher.connections == 2 and publisher.dropped == 0
    finally:
        await again.stop()


async def test_a_full_queue_drops_the_oldest_and_counts_them(
    broker: Broker, subscriber: Subscriber
) -> None:
    publisher = MqttPublisher(settings(broker.url, queue_size=3))
    for n in range(5):
        publisher.enqueue(Message(f"acd/test/{n}", {"v": 1, "type": "test", "n": n}))
    assert (publisher.dropped, publisher.queued) == (2, 3)
    run = Running(publisher)
    try:
        await subscriber.until(lambda: len(subscriber.types("acd/test/")) == 3)
    finally:
        await run.close()
    assert [str(m.topic) for m in subscriber.received if "/test/" in str(m.topic)] == [
        "acd/test/2",
        "acd/test/3",
        "acd/test/4",
    ]


async def test_without_a_broker_the_observer_returns_at_once_and_the_queue_stays_bounded(
    config: Config,
) -> None:
    nobody = f"mqtt://127.0.0.1:{free_port()}"
    publisher = MqttPublisher(
        settings(nobody, queue_size=50), backoff_initial=0.01, backoff_max=0.05
    )
    run = Running(publisher)
    try:
        for n in range(40):
            centre = Centre(config)
            centre.ready("1001", "1002")
            centre.call(f"1700000000.{n}")
            feed(centre, publisher)
        assert publisher.queued == 50
        assert publisher.dropped > 0
        await until(lambda: publisher.connect_failures >= 3)
        assert not run.task.done()  # still trying, with backoff
    finally:
        await run.close()


def test_a_mapping_bug_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    publisher = MqttPublisher(MqttSettings())

    def bug(*_: object) -> list[Message]:
        raise KeyError("bug")

    publisher.mapper = bug  # type: ignore[assignment]
    publisher.observe(ev.Tick(), [], 0.0)
    assert "MQTT events for Tick not made" in caplog.text
    assert publisher.queued == 0


def test_broker_urls() -> None:
    assert broker_address("mqtt://127.0.0.1") == ("127.0.0.1", 1883, False)
    assert broker_address("mqtts://broker.example:8884") == ("broker.example", 8884, True)
    assert broker_address("mqtts://[::1]") == ("::1", 8883, True)


def test_the_broker_defaults_to_loopback() -> None:
    assert broker_address(MqttSettings().url)[0] == "127.0.0.1"


def test_credentials_never_sit_in_the_url_and_tls_files_need_mqtts() -> None:
    with pytest.raises(ValidationError, match="without credentials"):
        MqttSettings(url="mqtt://acd:secret@127.0.0.1")
    with pytest.raises(ValidationError, match="mqtts://"):
        MqttSettings(ca_file="/etc/ssl/ca.pem")
    with pytest.raises(ValidationError, match="go together"):
        MqttSettings(url="mqtts://broker", cert_file="/etc/acd/client.pem")


def test_the_password_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    env = {"ACD_MQTT_PASSWORD": "from-env"}
    assert read_password(MqttSettings(username="acd"), env) == "from-env"
    assert read_password(MqttSettings(username="acd"), {}) is None
    secret = tmp_path / "mqtt-password"
    secret.write_text("from-file\n")
    os.chmod(secret, 0o600)
    assert read_password(MqttSettings(username="acd", password_file=str(secret)), env) == (
        "from-file"
    )


async def test_the_screen_pop_lookups_read_the_call_record_and_the_callers_history(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    await upgrade_async(url)
    writer = RecordWriter(url)
    await writer.start()
    t0 = 1_700_000_000.0
    writer.submit(IvrPath("earlier", CALLER, "home", "main/2", t0))
    writer.submit(
        CallRecord(
            "earlier",
            CALLER,
            "home",
            "general",
            t0,
            agent="1002",
            answered_at=t0 + 5,
            ended_at=t0 + 65,
            disposition="answered",
            hangup_side="agent",
            offers=1,
        )
    )
    writer.submit(IvrPath(CALL, CALLER, "home", "main/1", t0 + 3600))
    await writer.close()
    async with Records(url) as records:
        ivr_path, history = database_lookups(records)
        assert await ivr_path(CALL) == "main/1"
        assert await ivr_path("unknown") is None
        found = await history(CALLER)
    assert found is not None
    assert [c["call_id"] for c in found["history"]] == [CALL, "earlier"]
    assert found["history"][1]["agent"] == "1002"


async def test_the_publisher_closes_the_records_its_screen_pops_read_when_it_closes() -> None:
    class Closing:
        closes = 0

        async def close(self) -> None:
            self.closes += 1

    records = Closing()
    publisher = MqttPublisher(
        settings(f"mqtt://127.0.0.1:{free_port()}"), records=cast(Records, records)
    )
    await publisher.close()
    assert records.closes == 1
