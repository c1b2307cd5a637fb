"""Hostile and broken AMI input: the codec and the client must keep the link or rebuild it.

What a peer may send that a healthy Asterisk would not: frames cut anywhere, CR/LF mixes, bytes
that are not UTF-8, frames without end, garbage before the banner, replies for ActionIDs nobody
sent or sent twice, list completions without a start, events between a reply and its list,
and a socket closing in the middle of a frame. Properties checked for every input:

* no crash: the parser raises nothing but `AmiProtocolError`, the client's actions nothing but
  `AmiException`s, and nothing escapes into the event loop;
* no hang: every client scenario runs under an asyncio timeout, and the parser's buffer is
  capped by `max_frame_bytes`, which is checked here;
* a clear error: what went wrong is in the exception;
* the link survives noise (no reconnect, a Ping still answers), and a broken stream ends in a
  clean reconnect.

Hypothesis settings: `deadline=None` since the client scenarios do real socket I/O, whose
timing is the machine's. `max_examples` is 200 for the pure parser (microseconds each) and 30
for the client scenarios (each a TCP connection, a login and an exchange: a few ms, so the file
stays within a few seconds; 30 is enough for the 9 noise kinds at up to 8 positions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.ami import (
    AmiClient,
    AmiDisconnected,
    AmiParser,
    AmiProtocolError,
    Message,
)

SCENARIO_LIMIT = 10.0  # a client scenario taking longer than this is a hang
PURE = settings(max_examples=200, deadline=None)
CLIENT = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BANNER = b"Asterisk Call Manager/9.0.0\r\n"

Pairs = list[tuple[str, str]]

# Shaped like what Asterisk 22 sends for a call reaching the hold and an agent being rung.
STREAM: list[Pairs] = [
    [("Response", "Success"), ("ActionID", "a-1"), ("Message", "Authentication accepted")],
    [("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "12")],
    [
        ("Event", "Newchannel"),
        ("Privilege", "call,all"),
        ("Channel", "PJSIP/trunk-00000001"),
        ("ChannelState", "0"),
        ("ChannelStateDesc", "Down"),
        ("CallerIDNum", "13800138000"),
        ("CallerIDName", "张三"),
        ("ConnectedLineNum", "<unknown>"),
        ("Language", "zh"),
        ("Context", "from-trunk"),
        ("Exten", "100"),
        ("Priority", "1"),
        ("Uniqueid", "1700000000.1"),
        ("Linkedid", "1700000000.1"),
    ],
    [
        ("Event", "VarSet"),
        ("Channel", "PJSIP/trunk-00000001"),
        ("Variable", "ACD_QUEUE"),
        ("Value", "general: with colon"),
        ("Uniqueid", "1700000000.1"),
    ],
    [
        ("Event", "UserEvent"),
        ("Channel", "PJSIP/trunk-00000001"),
        ("CallerIDNum", "13800138000"),
        ("Uniqueid", "1700000000.1"),
        ("ChanVariable", "ACD_QUEUE=general"),
        ("ChanVariable", "ACD_PRIORITY=0"),
        ("ChanVariable", "ACD_HOTLINE=home"),
        ("UserEvent", "AcdEnqueued"),
    ],
    [("Event", "DeviceStateChange"), ("Device", "PJSIP/1001"), ("State", "RINGING")],
    [
        ("Event", "DTMFEnd"),
        ("Uniqueid", "acd-1"),
        ("Digit", "*"),
        ("DurationMs", "120"),
        ("Direction", "Received"),
    ],
    [
        ("Event", "Hangup"),
        ("Uniqueid", "1700000000.1"),
        ("Cause", "16"),
        ("Cause-txt", "Normal Clearing"),
    ],
    [("Response", "Follows"), ("ActionID", "a-2"), ("Output", "line one"), ("Output", "")],
]


def encode(pairs: Pairs, eol: bytes = b"\r\n") -> bytes:
    return b"".join(f"{k}: {v}".encode() + eol for k, v in pairs) + eol


def parse_all(*chunks: bytes, parser: AmiParser | None = None) -> list[Message]:
    parser = parser or AmiParser()
    return [msg for chunk in chunks for msg in parser.feed(chunk)]


RAW = BANNER + b"".join(encode(p) for p in STREAM)
EXPECTED = [Message(p) for p in STREAM]


# -- the parser ---------------------------------------------------------------------------


def test_stream_split_at_every_byte_gives_the_same_messages() -> None:
    for cut in range(len(RAW) + 1):
        parser = AmiParser()
        assert parse_all(RAW[:cut], RAW[cut:], parser=parser) == EXPECTED, cut
        assert parser.banner == "Asterisk Call Manager/9.0.0"


def test_stream_fed_one_byte_at_a_time() -> None:
    assert parse_all(*(RAW[n : n + 1] for n in range(len(RAW)))) == EXPECTED


@PURE
@given(eols=st.lists(st.sampled_from([b"\r\n", b"\n"]), min_size=len(STREAM), max_size=len(STREAM)))
def test_any_mix_of_line_endings(eols: list[bytes]) -> None:
    raw = BANNER + b"".join(encode(p, eol) for p, eol in zip(STREAM, eols, strict=True))
    assert parse_all(raw) == EXPECTED


@PURE
@given(cut=st.integers(0, len(RAW)), rest=st.lists(st.integers(0, len(RAW)), max_size=6))
def test_a_truncated_stream_yields_only_whole_frames(cut: int, rest: list[int]) -> None:
    """Whatever arrived before the connection died: complete frames, never half of one."""
    data = RAW[:cut]
    bounds = [0, *sorted(c for c in rest if c < cut), cut]
    got = parse_all(*(data[a:b] for a, b in pairwise(bounds)))
    assert got == EXPECTED[: len(got)]


@PURE
@given(
    junk=st.lists(st.binary(min_size=1, max_size=30), min_size=1, max_size=len(STREAM)),
    data=st.data(),
)
def test_non_utf8_values_are_replaced_and_framing_holds(
    junk: list[bytes], data: st.DataObject
) -> None:
    frames = []
    for pairs, blob in zip(STREAM, junk, strict=False):
        value = blob.replace(b"\r", b"").replace(b"\n", b"") or b"\xff"
        frames.append(encode(pairs)[:-2] + b"X-Junk: " + value + b"\r\n\r\n")
    raw = BANNER + b"".join(frames)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(raw)), max_size=8)))
    got = parse_all(*(raw[a:b] for a, b in pairwise([0, *cuts, len(raw)])))
    assert [m.items()[:-1] for m in got] == [m.items() for m in EXPECTED[: len(junk)]]
    for msg, blob in zip(got, junk, strict=False):
        sent = blob.replace(b"\r", b"").replace(b"\n", b"") or b"\xff"
        assert msg["X-Junk"] == sent.decode("utf-8", errors="replace")


@PURE
@given(
    garbage=st.lists(
        st.text(st.characters(exclude_characters=":\r\n", exclude_categories=["Cs"]), max_size=40),
        min_size=1,
        max_size=4,
    )
)
def test_garbage_before_the_banner_does_not_hide_the_frames_after_it(garbage: list[str]) -> None:
    raw = "".join(f"{line}\r\n" for line in garbage).encode() + RAW
    got = parse_all(raw)
    # The junk (and the banner after it) is free text: it may form frames of its own, which are
    # neither events nor replies, or join the first real frame, whose keys all survive so the
    # login reply still resolves by its ActionID.
    real = [m for m in got if m.is_event or m.is_response]
    assert real[1:] == EXPECTED[1:]
    assert real[0].items()[-len(STREAM[0]) :] == STREAM[0]
    for msg in got:
        if msg not in real:
            assert {k for k, _ in msg} == {"Output"}


@PURE
@given(
    chunks=st.lists(st.integers(1, 3_000), min_size=1, max_size=30),
    newlines=st.booleans(),
    limit=st.integers(100, 10_000),
)
def test_a_frame_without_end_is_refused_before_it_outgrows_the_cap(
    chunks: list[int], newlines: bool, limit: int
) -> None:
    parser = AmiParser(max_frame_bytes=limit)
    fed = 0
    for size in chunks:
        piece = (b"Key: " + b"v" * size + b"\r\n") if newlines else b"v" * size
        try:
            parser.feed(piece)
        except AmiProtocolError as exc:
            assert f"exceeds {limit} bytes" in str(exc)
            assert fed <= limit  # it failed on the chunk that crossed the cap, not later
            with pytest.raises(AmiProtocolError):
                parser.feed(b"\r\n")  # and the stream stays untrusted
            return
        fed += len(piece)
    assert fed <= limit + 5  # never refused below the cap (5: "Key: " of a single piece)


@PURE
@given(st.binary(max_size=2_000), st.lists(st.integers(0, 2_000), max_size=10))
def test_random_bytes_only_ever_raise_protocol_errors(blob: bytes, cuts: list[int]) -> None:
    parser = AmiParser(max_frame_bytes=500)
    bounds = [0, *sorted(c for c in cuts if c < len(blob)), len(blob)]
    try:
        for msg in parse_all(*(blob[a:b] for a, b in pairwise(bounds)), parser=parser):
            assert len(msg) > 0
            assert all("\n" not in k + v for k, v in msg)
    except AmiProtocolError as exc:
        assert str(exc)


# -- the client, against a hostile Asterisk ------------------------------------------------

Script = Callable[[asyncio.StreamWriter, Message], Awaitable[None]]


class Peer:
    """A scripted AMI server: optional junk, the banner, any Login accepted, Ping answered;
    the action under test goes to `script`. Only the first connection gets the junk and the
    script; reconnections get a plain, healthy Asterisk."""

    def __init__(self, script: Script, before_banner: bytes = b"") -> None:
        self.script = script
        self.before_banner = before_banner
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        first = self.connections == 1
        self._writers.append(writer)
        writer.write((self.before_banner if first else b"") + BANNER)
        parser = AmiParser()
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                for msg in parser.feed(data):
                    name = (msg.get("Action") or "").lower()
                    ok = [("Response", "Success"), ("ActionID", msg.action_id or "")]
                    if name == "login":
                        writer.write(encode([*ok, ("Message", "Authentication accepted")]))
                    elif name == "ping":
                        writer.write(encode([*ok, ("Ping", "Pong")]))
                    elif first:
                        await self.script(writer, msg)
                    await writer.drain()


class Events:
    def __init__(self) -> None:
        self.got: list[Message] = []

    def __call__(self, msg: Message) -> None:
        self.got.append(msg)


async def eventually(predicate: Callable[[], bool]) -> None:
    while not predicate():  # noqa: ASYNC110 - plain attributes, nothing to await on
        await asyncio.sleep(0.005)


async def with_client(
    script: Script,
    test: Callable[[AmiClient, Events, Peer], Awaitable[None]],
    before: bytes = b"",
    **options: float,
) -> None:
    peer = Peer(script, before)
    events = Events()
    async with asyncio.timeout(SCENARIO_LIMIT):
        await peer.start()
        client = AmiClient(
            "127.0.0.1",
            peer.port,
            "acd",
            "secret",
            on_event=events,
            ping_interval=30.0,
            action_timeout=1.0,
            connect_timeout=1.0,
            backoff_initial=0.01,
            backoff_max=0.02,
            **options,  # type: ignore[arg-type]
        )
        task = asyncio.create_task(client.run())
        try:
            await client.wait_connected()
            await test(client, events, peer)
        finally:
            await client.close()
            await task
            await peer.stop()


def list_frames(action_id: str) -> list[Pairs]:
    """A CoreShowChannels exchange as Asterisk 22 sends it."""
    item = [("Event", "CoreShowChannel"), ("ActionID", action_id), ("Context", "acd-hold")]
    return [
        [
            ("Response", "Success"),
            ("ActionID", action_id),
            ("EventList", "start"),
            ("Message", "Channels will follow"),
        ],
        [*item, ("Uniqueid", "1.1")],
        [*item, ("Uniqueid", "1.2")],
        [
            ("Event", "CoreShowChannelsComplete"),
            ("ActionID", action_id),
            ("EventList", "Complete"),
            ("ListItems", "2"),
        ],
    ]


# Frames that are not part of our exchange; `after_start` ones only make sense once it began.
NOISE: dict[str, Callable[[str], bytes]] = {
    "event": lambda _: encode([("Event", "Newchannel"), ("Uniqueid", "9.1"), ("CallerIDNum", "1")]),
    "non-utf8-event": lambda _: b"Event: VarSet\r\nValue: \xff\xfe\xc3\x28\r\n\r\n",
    "lf-only-event": lambda _: b"Event: Hangup\nUniqueid: 9.2\n\n",
    "reply-unknown-id": lambda _: encode([("Response", "Success"), ("ActionID", "nobody-7")]),
    "reply-no-id": lambda _: encode([("Response", "Error"), ("Message", "Permission denied")]),
    "neither": lambda _: b"free text that is no header\r\n\r\n",
    "complete-without-start": lambda _: encode(
        [("Event", "DeviceStateListComplete"), ("ActionID", "nobody-8"), ("EventList", "Complete")]
    ),
    "item-of-another-list": lambda _: encode(
        [("Event", "CoreShowChannel"), ("ActionID", "nobody-9")]
    ),
    "blank-lines": lambda _: b"\r\n\n\r\n",
}
AFTER_START: dict[str, Callable[[str], bytes]] = {
    "duplicate-reply": lambda aid: encode([("Response", "Success"), ("ActionID", aid)]),
}


def noise_events(noise: list[bytes]) -> list[Message]:
    return [m for m in parse_all(*noise) if m.is_event]


@CLIENT
@given(
    inserts=st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(sorted(NOISE) + sorted(AFTER_START))),
        max_size=8,
    ),
    cuts=st.lists(st.integers(1, 400), max_size=6),
    crlf=st.booleans(),
)
def test_noise_around_a_list_never_changes_its_result(
    inserts: list[tuple[int, str]], cuts: list[int], crlf: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="acd.ami")
    sent_noise: list[bytes] = []

    async def script(writer: asyncio.StreamWriter, msg: Message) -> None:
        aid = msg.action_id or ""
        eol = b"\r\n" if crlf else b"\n"
        frames = [(encode(f, eol), False) for f in list_frames(aid)]
        # A repeat of the reply only once the list has begun (after frame 0). Inserted from
        # the back so each position still counts frames of the exchange itself.
        placed = [(max(p, 1) if k in AFTER_START else p, k) for p, k in inserts]
        for position, kind in sorted(placed, key=lambda item: -item[0]):
            make = AFTER_START.get(kind) or NOISE[kind]
            frames.insert(position, (make(aid), True))
        sent_noise.extend(data for data, noise in frames if noise)
        raw = b"".join(data for data, _ in frames)
        for a, b in pairwise([0, *sorted(c for c in set(cuts) if c < len(raw)), len(raw)]):
            writer.write(raw[a:b])
            await writer.drain()

    async def test(client: AmiClient, events: Events, peer: Peer) -> None:
        response, items = await client.action_list("CoreShowChannels")
        assert response.get("EventList") == "start"
        assert [m.get("Uniqueid") for m in items] == ["1.1", "1.2"]
        wanted = noise_events(sent_noise)
        await eventually(lambda: len(events.got) >= len(wanted))
        assert events.got == wanted  # every other event, in order, and nothing of the list
        assert (await client.action("Ping")).get("Ping") == "Pong"
        assert client.connected and client.reconnects == 0 and peer.connections == 1

    asyncio.run(with_client(script, test))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@CLIENT
@given(order=st.permutations(range(4)))
def test_a_list_in_any_order_resolves_and_loses_no_item(order: list[int]) -> None:
    async def script(writer: asyncio.StreamWriter, msg: Message) -> None:
        frames = list_frames(msg.action_id or "")
        writer.write(b"".join(encode(frames[n]) for n in order))

    async def test(client: AmiClient, events: Events, peer: Peer) -> None:
        response, items = await client.action_list("CoreShowChannels")
        assert response.get("EventList") == "start"
        # Frames after the reply reach on_event: wait for them (bounded by the scenario limit).
        await eventually(lambda: len(items) + len(events.got) >= 2)
        delivered = [m.get("Uniqueid", "") for m in items + events.got if "Uniqueid" in m]
        assert sorted(delivered) == ["1.1", "1.2"]  # each item exactly once, somewhere
        if order == [0, 1, 2, 3]:
            assert [m.get("Uniqueid") for m in items] == ["1.1", "1.2"]
        assert client.connected and client.reconnects == 0

    asyncio.run(with_client(script, test))


@CLIENT
@given(cut=st.integers(0, 2_000))
def test_a_hang_up_mid_frame_fails_the_action_and_reconnects(cut: int) -> None:
    async def script(writer: asyncio.StreamWriter, msg: Message) -> None:
        raw = b"".join(encode(f) for f in list_frames(msg.action_id or ""))
        writer.write(raw[: cut % len(raw)])
        await writer.drain()
        writer.close()

    async def test(client: AmiClient, events: Events, peer: Peer) -> None:
        with pytest.raises(AmiDisconnected, match=r"lost|closed"):
            await client.action_list("CoreShowChannels")
        await client.wait_connected()
        assert (await client.action("Ping")).get("Ping") == "Pong"
        assert client.reconnects == 1 and peer.connections == 2

    asyncio.run(with_client(script, test))


@CLIENT
@given(
    garbage=st.lists(
        st.text(st.characters(exclude_characters=":\r\n", exclude_categories=["Cs"]), max_size=60),
        min_size=1,
        max_size=5,
    )
)
def test_garbage_before_the_banner_still_logs_in(garbage: list[str]) -> None:
    async def script(writer: asyncio.StreamWriter, msg: Message) -> None:
        writer.write(encode([("Response", "Success"), ("ActionID", msg.action_id or "")]))

    async def test(client: AmiClient, events: Events, peer: Peer) -> None:
        assert (await client.action("Command", Command="core show uptime")).get(
            "Response"
        ) == "Success"
        assert client.connected and client.reconnects == 0

    junk = "".join(f"{line}\r\n" for line in garbage).encode("utf-8", errors="replace")
    asyncio.run(with_client(script, test, before=junk))


async def test_a_frame_without_end_drops_the_link_with_a_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(writer: asyncio.StreamWriter, msg: Message) -> None:
        writer.write(b"Event: Endless\r\n" + b"Key: " + b"v" * 70_000 + b"\r\n" * 20)

    async def test(client: AmiClient, events: Events, peer: Peer) -> None:
        with pytest.raises(AmiDisconnected):
            await client.action("Trigger")
        await client.wait_connected()
        assert (await client.action("Ping")).get("Ping") == "Pong"
        assert peer.connections == 2 and client.reconnects == 1
        assert not events.got  # nothing of the endless frame was delivered

    caplog.set_level(logging.INFO, logger="acd.ami")
    await with_client(script, test, max_frame_bytes=4096)
    assert "exceeds 4096 bytes" in caplog.text
    assert "reconnecting" in caplog.text
