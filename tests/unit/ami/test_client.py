"""The client against a scripted fake Asterisk on loopback.

Each test drives a failure the engine must survive in production (bad login, a peer vanishing
mid-action, a silent peer, a buggy callback) and checks nothing hangs and the link comes back.
Timers are tens of milliseconds; waits are generous upper bounds, never exact sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from acd.ami import (
    AmiClient,
    AmiDisconnected,
    AmiError,
    AmiParser,
    AmiTimeout,
    Message,
)

USER = "acd"
SECRET = "s3cret"
WAIT = 5.0  # generous upper bound for anything that should happen "soon"

Pairs = list[tuple[str, str]]


def frame(*pairs: tuple[str, str]) -> bytes:
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in pairs) + b"\r\n"


class FakeConn:
    def __init__(self, index: int, writer: asyncio.StreamWriter) -> None:
        self.index = index
        self.writer = writer

    def send(self, *pairs: tuple[str, str]) -> None:
        self.writer.write(frame(*pairs))

    def reply(self, msg: Message, *pairs: tuple[str, str]) -> None:
        self.send(("Response", "Success"), ("ActionID", msg.action_id or ""), *pairs)

    def close(self) -> None:
        self.writer.close()


Handler = Callable[[FakeConn, Message], Awaitable[None] | None]


class FakeAmi:
    """Just enough of Asterisk's manager: banner, Login, Ping, and per-test scripted actions."""

    def __init__(self) -> None:
        self.port = 0
        self.reject_logins = 0
        self.handlers: dict[str, Handler] = {}
        self.received: list[Message] = []
        self.connections: list[FakeConn] = []
        self.logins = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in self.connections:
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def drop_all(self) -> None:
        for conn in self.connections:
            conn.close()

    def actions(self, name: str) -> list[Message]:
        return [m for m in self.received if (m.get("Action") or "").lower() == name.lower()]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = FakeConn(len(self.connections), writer)
        self.connections.append(conn)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        parser = AmiParser()
        try:
            while data := await reader.read(65536):
                for msg in parser.feed(data):
                    self.received.append(msg)
                    await self._respond(conn, msg)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _respond(self, conn: FakeConn, msg: Message) -> None:
        name = (msg.get("Action") or "").lower()
        handler = {k.lower(): v for k, v in self.handlers.items()}.get(name)
        if handler is not None:
            result = handler(conn, msg)
            if result is not None:
                await result
        elif name == "login":
            ok = msg.get("Username") == USER and msg.get("Secret") == SECRET
            if ok and self.reject_logins > 0:
                self.reject_logins -= 1
                ok = False
            if ok:
                self.logins += 1
                conn.reply(msg, ("Message", "Authentication accepted"))
                conn.send(("Event", "FullyBooted"), ("Privilege", "system,all"))
            else:
                conn.send(
                    ("Response", "Error"),
                    ("ActionID", msg.action_id or ""),
                    ("Message", "Authentication failed"),
                )
                conn.close()  # Asterisk ends the session after a failed login
        elif name == "ping":
            conn.reply(msg, ("Ping", "Pong"), ("Timestamp", "1700000000.000000"))
        else:
            conn.send(
                ("Response", "Error"),
                ("ActionID", msg.action_id or ""),
                ("Message", "Invalid/unknown command"),
            )


class Recorder:
    def __init__(self) -> None:
        self.events: list[Message] = []
        self.logins = 0
        self.disconnects = 0

    def on_event(self, msg: Message) -> None:
        self.events.append(msg)

    async def on_login(self) -> None:
        self.logins += 1

    def on_disconnect(self) -> None:
        self.disconnects += 1

    def names(self) -> list[str | None]:
        return [e.name for e in self.events if e.name != "FullyBooted"]


async def eventually(predicate: Callable[[], bool], within: float = WAIT) -> None:
    """Poll: the conditions checked are plain attributes, with nothing to await on."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.stop()


ClientFactory = Callable[..., tuple[AmiClient, Recorder]]


@pytest.fixture
async def make_client(fake: FakeAmi) -> AsyncIterator[ClientFactory]:
    started: list[tuple[AmiClient, asyncio.Task[None]]] = []

    def factory(**overrides: Any) -> tuple[AmiClient, Recorder]:
        rec = Recorder()
        kwargs: dict[str, Any] = {
            "on_event": rec.on_event,
            "on_login": rec.on_login,
            "on_disconnect": rec.on_disconnect,
            "ping_interval": 0.2,
            "ping_timeout": 1.0,
            "action_timeout": 2.0,
            "connect_timeout": 1.0,
            "backoff_initial": 0.01,
            "backoff_max": 0.05,
        }
        kwargs.update(overrides)
        port = kwargs.pop("port", None) or fake.port
        client = AmiClient("127.0.0.1", port, USER, kwargs.pop("secret", SECRET), **kwargs)
        started.append((client, asyncio.create_task(client.run())))
        return client, rec

    yield factory
    for client, task in started:
        async with asyncio.timeout(WAIT):
            await client.close()
            await task
        assert task.done() and task.exception() is None


# -- login -------------------------------------------------------------------------------------


async def test_login_and_on_login_can_use_actions(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    fake.handlers["CoreShowChannels"] = lambda conn, msg: send_list(conn, msg, "CoreShowChannel", 2)
    results: list[Any] = []
    rec = Recorder()

    async def on_login() -> None:
        # The engine resyncs from inside on_login: this must not deadlock the reader.
        results.append(await client.action("Ping"))
        results.append(await client.action_list("CoreShowChannels"))
        rec.logins += 1

    client, _ = make_client(on_login=on_login, on_event=rec.on_event)
    await client.wait_connected(WAIT)
    assert client.connected
    await eventually(lambda: rec.logins == 1)

    (login,) = fake.actions("Login")
    assert login.get("Username") == USER
    assert login.get("Secret") == SECRET
    assert login.get("Events") == "on"
    assert login.action_id
    assert client.banner == "Asterisk Call Manager/9.0.0"
    assert results[0].get("Ping") == "Pong"
    response, events = results[1]
    assert response.get("EventList") == "start"
    assert [e.get("Channel") for e in events] == ["PJSIP/1-0", "PJSIP/1-1"]
    assert client.reconnects == 0
    await eventually(lambda: [e.name for e in rec.events] == ["FullyBooted"])


async def test_login_failure_is_logged_and_retried(
    fake: FakeAmi, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="acd.ami")
    fake.reject_logins = 2
    client, rec = make_client()
    await client.wait_connected(WAIT)
    assert len(fake.actions("Login")) == 3
    assert fake.logins == 1
    await eventually(lambda: rec.logins == 1)
    rejected = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 2
    assert all(r.levelno == logging.ERROR for r in rejected)
    assert "Authentication failed" in rejected[0].getMessage()
    assert "retrying in" in rejected[0].getMessage()
    assert SECRET not in caplog.text
    # Failed logins were never sessions: nothing to report as a reconnect or a disconnect.
    assert client.reconnects == 0
    assert rec.disconnects == 0


async def test_wait_connected_times_out_while_login_keeps_failing(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    client, _ = make_client(secret="wrong")
    with pytest.raises(TimeoutError):
        await client.wait_connected(0.1)
    assert not client.connected
    await eventually(lambda: len(fake.actions("Login")) >= 2)


# -- actions -----------------------------------------------------------------------------------


async def test_action_returns_response_and_async_originate_event_goes_to_on_event(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    async def originate(conn: FakeConn, msg: Message) -> None:
        conn.reply(msg, ("Message", "Originate successfully queued"))
        await asyncio.sleep(0.02)
        conn.send(
            ("Event", "OriginateResponse"),
            ("ActionID", msg.action_id or ""),
            ("Response", "Success"),
            ("Channel", "PJSIP/agent1-00000001"),
            ("Uniqueid", "1700000000.1"),
        )

    fake.handlers["Originate"] = originate
    client, rec = make_client()
    await client.wait_connected(WAIT)
    response = await client.action(
        "Originate",
        Channel="PJSIP/agent1",
        Application="Bridge",
        Data="PJSIP/caller-1",
        Async="true",
        Timeout=20000,
        Variable=["ACD_CALL=1700.1", "ACD_AGENT=agent1"],
    )
    assert response.get("Message") == "Originate successfully queued"
    await eventually(lambda: "OriginateResponse" in rec.names())
    event = next(e for e in rec.events if e.name == "OriginateResponse")
    assert event.action_id == response.action_id
    assert event.get("Response") == "Success"
    (sent,) = fake.actions("Originate")
    assert sent.getall("Variable") == ["ACD_CALL=1700.1", "ACD_AGENT=agent1"]
    assert sent.get("Timeout") == "20000"
    assert sent.get("Async") == "true"


async def test_action_ids_are_unique(fake: FakeAmi, make_client: ClientFactory) -> None:
    client, _ = make_client()
    await client.wait_connected(WAIT)
    replies = await asyncio.gather(*(client.action("Ping") for _ in range(20)))
    ids = {r.action_id for r in replies}
    assert len(ids) == 20
    assert ids <= {m.action_id for m in fake.actions("Ping")}


async def test_error_response_raises_ami_error_and_keeps_connection(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    fake.handlers["Hangup"] = lambda conn, msg: conn.send(
        ("Response", "Error"), ("ActionID", msg.action_id or ""), ("Message", "No such channel")
    )
    client, rec = make_client()
    await client.wait_connected(WAIT)
    with pytest.raises(AmiError, match="No such channel") as info:
        await client.action("Hangup", Channel="PJSIP/gone")
    assert info.value.reason == "No such channel"
    assert info.value.action == "Hangup"
    assert info.value.response.get("Response") == "Error"
    with pytest.raises(AmiError, match="Invalid/unknown command"):
        await client.action_list("NoSuchList")
    assert client.connected
    assert (await client.action("Ping")).get("Ping") == "Pong"
    assert len(fake.connections) == 1
    assert rec.disconnects == 0


async def test_action_list_collects_its_events_only(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    def device_states(conn: FakeConn, msg: Message) -> None:
        aid = msg.action_id or ""
        conn.reply(msg, ("EventList", "start"), ("Message", "Device State Changes will follow"))
        conn.send(("Event", "DeviceStateChange"), ("Device", "PJSIP/agent9"), ("State", "INUSE"))
        conn.send(
            ("Event", "DeviceStateChange"),
            ("ActionID", aid),
            ("Device", "PJSIP/agent1"),
            ("State", "NOT_INUSE"),
        )
        conn.send(
            ("Event", "DeviceStateChange"),
            ("ActionID", aid),
            ("Device", "PJSIP/agent2"),
            ("State", "UNAVAILABLE"),
        )
        conn.send(
            ("Event", "DeviceStateListComplete"),
            ("ActionID", aid),
            ("EventList", "Complete"),
            ("ListItems", "2"),
        )

    fake.handlers["DeviceStateList"] = device_states
    client, rec = make_client()
    await client.wait_connected(WAIT)
    response, events = await client.action_list("DeviceStateList")
    assert response.get("EventList") == "start"
    assert [(e.get("Device"), e.get("State")) for e in events] == [
        ("PJSIP/agent1", "NOT_INUSE"),
        ("PJSIP/agent2", "UNAVAILABLE"),
    ]
    assert all(e.action_id == response.action_id for e in events)
    # The unrelated live event still reaches on_event; the list items and terminator do not.
    await eventually(lambda: rec.names() == ["DeviceStateChange"])
    assert rec.events[-1].get("Device") == "PJSIP/agent9"


async def test_action_list_split_across_tcp_writes(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    async def slow_list(conn: FakeConn, msg: Message) -> None:
        data = bytearray()
        aid = msg.action_id or ""
        data += frame(("Response", "Success"), ("ActionID", aid), ("EventList", "start"))
        for i in range(3):
            data += frame(("Event", "ContactList"), ("ActionID", aid), ("Uri", f"sip:{i}@x"))
        data += frame(
            ("Event", "ContactListComplete"), ("ActionID", aid), ("EventList", "Complete")
        )
        for i in range(0, len(data), 7):
            conn.writer.write(bytes(data[i : i + 7]))
            await conn.writer.drain()
            await asyncio.sleep(0)

    fake.handlers["PJSIPShowContacts"] = slow_list
    client, _ = make_client()
    await client.wait_connected(WAIT)
    _, events = await client.action_list("PJSIPShowContacts")
    assert [e.get("Uri") for e in events] == ["sip:0@x", "sip:1@x", "sip:2@x"]


async def test_action_list_without_eventlist_start_returns_at_once(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    fake.handlers["Odd"] = lambda conn, msg: conn.reply(msg, ("Message", "nothing to list"))
    client, _ = make_client()
    await client.wait_connected(WAIT)
    response, events = await client.action_list("Odd")
    assert response.get("Message") == "nothing to list"
    assert events == []


async def test_action_timeout(fake: FakeAmi, make_client: ClientFactory) -> None:
    fake.handlers["Slow"] = lambda conn, msg: None  # never answers
    client, _ = make_client(action_timeout=0.05)
    await client.wait_connected(WAIT)
    with pytest.raises(AmiTimeout) as info:
        await client.action("Slow")
    assert isinstance(info.value, TimeoutError)
    with pytest.raises(asyncio.TimeoutError):
        await client.action_list("Slow")
    # A timed-out action is not a dead link.
    assert client.connected
    assert (await client.action("Ping")).get("Ping") == "Pong"


async def test_late_response_after_timeout_is_ignored(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    async def late(conn: FakeConn, msg: Message) -> None:
        await asyncio.sleep(0.1)
        conn.reply(msg, ("Message", "too late"))

    fake.handlers["Late"] = late
    client, rec = make_client(action_timeout=0.03)
    await client.wait_connected(WAIT)
    with pytest.raises(AmiTimeout):
        await client.action("Late")
    await asyncio.sleep(0.15)
    assert client.connected
    assert (await client.action("Ping")).get("Ping") == "Pong"
    assert rec.names() == []


async def test_action_when_not_connected_fails_fast() -> None:
    client = AmiClient("127.0.0.1", 9, USER, SECRET, on_event=lambda msg: None)
    with pytest.raises(AmiDisconnected):
        await client.action("Ping")
    with pytest.raises(AmiDisconnected):
        await client.action_list("CoreShowChannels")
    assert not client.connected


async def test_header_injection_is_refused_and_link_survives(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    client, _ = make_client()
    await client.wait_connected(WAIT)
    with pytest.raises(ValueError, match="CR or LF"):
        await client.action("Redirect", Channel="PJSIP/1\r\n\r\nAction: Hangup\r\nChannel: x")
    assert fake.actions("Redirect") == []
    assert fake.actions("Hangup") == []
    assert (await client.action("Ping")).get("Ping") == "Pong"


# -- disconnects and liveness -----------------------------------------------------------------


async def test_pending_actions_fail_when_server_drops_mid_action(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    def half_answer_then_vanish(conn: FakeConn, msg: Message) -> None:
        # The panoramisk bug: a partial response followed by a disconnect hung forever.
        conn.writer.write(f"Response: Success\r\nActionID: {msg.action_id}\r\nMess".encode())
        conn.close()

    fake.handlers["Hangup"] = half_answer_then_vanish
    fake.handlers["CoreShowChannels"] = lambda conn, msg: conn.reply(msg, ("EventList", "start"))
    client, rec = make_client(action_timeout=30.0)  # a hang would show as a test timeout
    await client.wait_connected(WAIT)
    await eventually(lambda: rec.logins == 1)

    listing = asyncio.create_task(client.action_list("CoreShowChannels"))
    await eventually(lambda: bool(fake.actions("CoreShowChannels")))
    async with asyncio.timeout(WAIT):
        with pytest.raises(AmiDisconnected):
            await client.action("Hangup", Channel="PJSIP/x")
        with pytest.raises(AmiDisconnected):
            await listing

    await eventually(lambda: rec.disconnects == 1)
    await eventually(lambda: rec.logins == 2)
    await client.wait_connected(WAIT)
    assert client.reconnects == 1
    assert len(fake.connections) == 2
    assert (await client.action("Ping")).get("Ping") == "Pong"


async def test_server_closing_socket_triggers_reconnect(
    fake: FakeAmi, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="acd.ami")
    client, rec = make_client()
    await client.wait_connected(WAIT)
    await eventually(lambda: rec.logins == 1)
    fake.drop_all()
    await eventually(lambda: rec.logins == 2)
    assert rec.disconnects == 1
    assert client.reconnects == 1
    assert any(
        "lost" in r.getMessage() and "reconnecting in" in r.getMessage() for r in caplog.records
    )


async def test_ping_timeout_drops_and_reconnects(
    fake: FakeAmi, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="acd.ami")

    def ping(conn: FakeConn, msg: Message) -> None:
        if conn.index > 0:  # the first connection goes silent, later ones are healthy
            conn.reply(msg, ("Ping", "Pong"))

    fake.handlers["Ping"] = ping
    fake.handlers["Stuck"] = lambda conn, msg: None
    client, rec = make_client(ping_interval=0.03, ping_timeout=0.2, action_timeout=30.0)
    await client.wait_connected(WAIT)
    await eventually(lambda: rec.logins == 1)
    stuck = asyncio.create_task(client.action("Stuck"))

    await eventually(lambda: rec.logins == 2)
    async with asyncio.timeout(WAIT):
        with pytest.raises(AmiDisconnected):
            await stuck
    assert rec.disconnects == 1
    assert client.reconnects == 1
    assert any("Ping" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    # The healthy second connection stays up across several ping rounds.
    await eventually(lambda: len(fake.actions("Ping")) >= 6)
    assert len(fake.connections) == 2
    assert client.connected


async def test_server_not_running_at_start(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="acd.ami")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rec = Recorder()
    client = AmiClient(
        "127.0.0.1",
        port,
        USER,
        SECRET,
        on_event=rec.on_event,
        on_login=rec.on_login,
        backoff_initial=0.01,
        backoff_max=0.05,
        connect_timeout=1.0,
    )
    task = asyncio.create_task(client.run())
    server = FakeAmi()
    try:
        await eventually(
            lambda: sum("not reachable" in r.getMessage() for r in caplog.records) >= 3
        )
        assert not task.done()
        assert not client.connected
        message = next(r.getMessage() for r in caplog.records if "not reachable" in r.getMessage())
        assert f"127.0.0.1:{port}" in message
        assert "retrying in" in message

        await server.start(port)
        await client.wait_connected(WAIT)
        await eventually(lambda: rec.logins == 1)
        assert client.reconnects == 0
    finally:
        async with asyncio.timeout(WAIT):
            await client.close()
            await task
        await server.stop()


async def test_oversized_frame_drops_connection_and_reconnects(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    def flood(conn: FakeConn, msg: Message) -> None:
        conn.writer.write(b"Event: Flood\r\n" + b"X: " + b"y" * 5000 + b"\r\n\r\n")

    fake.handlers["Flood"] = flood
    client, rec = make_client(max_frame_bytes=1024, action_timeout=30.0)
    await client.wait_connected(WAIT)
    await eventually(lambda: rec.logins == 1)
    with pytest.raises(AmiDisconnected):
        await client.action("Flood")
    await eventually(lambda: rec.logins == 2)
    assert "Flood" not in rec.names()


# -- events and callbacks ----------------------------------------------------------------------


async def test_events_are_delivered_in_order(fake: FakeAmi, make_client: ClientFactory) -> None:
    def burst(conn: FakeConn, msg: Message) -> None:
        conn.reply(msg)
        for i in range(200):
            conn.send(("Event", "Newstate"), ("Seq", str(i)))

    fake.handlers["Burst"] = burst
    client, rec = make_client()
    await client.wait_connected(WAIT)
    await client.action("Burst")
    await eventually(lambda: len(rec.names()) == 200)
    assert [e.get("Seq") for e in rec.events if e.name == "Newstate"] == [
        str(i) for i in range(200)
    ]


async def test_on_event_exception_does_not_disconnect(
    fake: FakeAmi, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str | None] = []

    def on_event(msg: Message) -> None:
        seen.append(msg.get("Seq"))
        if msg.get("Seq") == "1":
            raise RuntimeError("engine bug")

    def two_events(conn: FakeConn, msg: Message) -> None:
        conn.reply(msg)
        conn.send(("Event", "Hangup"), ("Seq", "1"))
        conn.send(("Event", "Hangup"), ("Seq", "2"))

    fake.handlers["Events"] = two_events
    client, rec = make_client(on_event=on_event)
    await client.wait_connected(WAIT)
    await client.action("Events")
    await eventually(lambda: "2" in seen)
    assert [s for s in seen if s] == ["1", "2"]
    assert "on_event callback failed" in caplog.text
    assert "engine bug" in caplog.text
    assert client.connected
    assert (await client.action("Ping")).get("Ping") == "Pong"
    assert len(fake.connections) == 1
    assert rec.disconnects == 0


async def test_on_login_exception_is_logged_and_swallowed(
    fake: FakeAmi, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def on_login() -> None:
        raise RuntimeError("resync bug")

    client, _ = make_client(on_login=on_login)
    await client.wait_connected(WAIT)
    await eventually(lambda: "resync bug" in caplog.text)
    assert client.connected
    assert (await client.action("Ping")).get("Ping") == "Pong"
    assert len(fake.connections) == 1


async def test_on_disconnect_exception_is_swallowed(
    fake: FakeAmi, make_client: ClientFactory
) -> None:
    logins = 0

    async def on_login() -> None:
        nonlocal logins
        logins += 1

    def on_disconnect() -> None:
        raise RuntimeError("metrics bug")

    client, _ = make_client(on_login=on_login, on_disconnect=on_disconnect)
    await client.wait_connected(WAIT)
    fake.drop_all()
    await eventually(lambda: logins == 2)
    assert client.reconnects == 1


# -- close -------------------------------------------------------------------------------------


async def test_close_fails_pending_and_stops_run(fake: FakeAmi) -> None:
    fake.handlers["Stuck"] = lambda conn, msg: None
    rec = Recorder()
    client = AmiClient(
        "127.0.0.1",
        fake.port,
        USER,
        SECRET,
        on_event=rec.on_event,
        on_disconnect=rec.on_disconnect,
        action_timeout=30.0,
    )
    task = asyncio.create_task(client.run())
    await client.wait_connected(WAIT)
    stuck = asyncio.create_task(client.action("Stuck"))
    await eventually(lambda: bool(fake.actions("Stuck")))
    async with asyncio.timeout(WAIT):
        await client.close()
        assert task.done()
        await task
        with pytest.raises(AmiDisconnected):
            await stuck
    assert not client.connected
    assert rec.disconnects == 1
    with pytest.raises(AmiDisconnected):
        await client.action("Ping")
    await asyncio.sleep(0.05)
    assert len(fake.connections) == 1  # no reconnect after close


async def test_close_during_backoff_returns_promptly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AmiClient(
        "127.0.0.1", port, USER, SECRET, on_event=lambda msg: None, backoff_initial=60.0
    )
    task = asyncio.create_task(client.run())
    await asyncio.sleep(0.05)
    async with asyncio.timeout(WAIT):
        await client.close()
        await task


async def test_cancelling_run_tears_down(fake: FakeAmi) -> None:
    client = AmiClient("127.0.0.1", fake.port, USER, SECRET, on_event=lambda msg: None)
    task = asyncio.create_task(client.run())
    await client.wait_connected(WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not client.connected
    await eventually(lambda: fake.connections[0].writer.is_closing())


# -- helpers -----------------------------------------------------------------------------------


def send_list(conn: FakeConn, msg: Message, event: str, count: int) -> None:
    aid = msg.action_id or ""
    conn.reply(msg, ("EventList", "start"), ("Message", "Channels will follow"))
    for i in range(count):
        conn.send(("Event", event), ("ActionID", aid), ("Channel", f"PJSIP/1-{i}"))
    conn.send(
        ("Event", f"{event}sComplete"),
        ("ActionID", aid),
        ("EventList", "Complete"),
        ("ListItems", str(count)),
    )


async def test_close_wakes_wait_connected() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AmiClient("127.0.0.1", port, USER, SECRET, on_event=lambda msg: None)
    task = asyncio.create_task(client.run())
    waiter = asyncio.create_task(client.wait_connected())
    await asyncio.sleep(0.02)
    async with asyncio.timeout(WAIT):
        await client.close()
        await task
        with pytest.raises(AmiDisconnected):
            await waiter
    with pytest.raises(AmiDisconnected):
        await client.wait_connected(1.0)


async def test_close_from_inside_on_login(fake: FakeAmi) -> None:
    async def on_login() -> None:
        await client.close()

    client = AmiClient(
        "127.0.0.1", fake.port, USER, SECRET, on_event=lambda msg: None, on_login=on_login
    )
    task = asyncio.create_task(client.run())
    async with asyncio.timeout(WAIT):
        await task
    assert not client.connected
    assert len(fake.connections) == 1
