"""The codec is where framing bugs would hide, so it is tested byte by byte and by property."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.ami.codec import AmiParser, AmiProtocolError, Message, encode_action

BANNER = b"Asterisk Call Manager/9.0.0\r\n"


def parse_all(*chunks: bytes, parser: AmiParser | None = None) -> list[Message]:
    parser = parser or AmiParser()
    out: list[Message] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


# -- Message ---------------------------------------------------------------------------------


def test_message_lookup_is_case_insensitive_and_first_wins() -> None:
    msg = Message(
        [("Event", "Newchannel"), ("ActionId", "a-1"), ("Variable", "x"), ("VARIABLE", "y")]
    )
    assert msg.get("event") == "Newchannel"
    assert msg["EVENT"] == "Newchannel"
    assert msg.action_id == "a-1"
    assert msg.get("variable") == "x"
    assert msg.getall("Variable") == ["x", "y"]
    assert msg.getall("missing") == []
    assert msg.get("missing") is None
    assert msg.get("missing", "d") == "d"
    assert "variable" in msg
    assert "missing" not in msg
    assert 3 not in msg
    with pytest.raises(KeyError):
        msg["missing"]


def test_message_kinds_and_name() -> None:
    event = Message([("Event", "Hangup"), ("Channel", "PJSIP/1")])
    response = Message([("Response", "Success"), ("ActionID", "1")])
    other = Message([("Output", "text")])
    assert event.is_event and not event.is_response and event.name == "Hangup"
    assert response.is_response and not response.is_event and response.name == "Success"
    assert not other.is_event and not other.is_response and other.name is None
    assert event.action_id is None


def test_originate_response_event_is_an_event_not_a_response() -> None:
    msg = Message([("Event", "OriginateResponse"), ("ActionID", "9"), ("Response", "Failure")])
    assert msg.is_event
    assert not msg.is_response
    assert msg.name == "OriginateResponse"
    assert msg.get("Response") == "Failure"


def test_message_items_order_and_to_dict() -> None:
    pairs = [("Response", "Success"), ("Output", "a"), ("output", "b"), ("Output", "c")]
    msg = Message(pairs)
    assert msg.items() == pairs
    assert list(msg) == pairs
    assert len(msg) == 4
    assert msg.to_dict() == {"Response": "Success", "Output": ["a", "b", "c"]}
    assert msg == Message(pairs)
    assert msg != Message(pairs[:1])
    assert "Response" in repr(msg)


# -- parser ------------------------------------------------------------------------------------


def test_banner_is_exposed_and_not_a_message() -> None:
    parser = AmiParser()
    assert parser.feed(BANNER) == []
    assert parser.banner == "Asterisk Call Manager/9.0.0"
    msgs = parser.feed(
        b"Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n"
    )
    assert len(msgs) == 1
    assert msgs[0].items() == [
        ("Response", "Success"),
        ("ActionID", "1"),
        ("Message", "Authentication accepted"),
    ]


def test_banner_split_across_feeds() -> None:
    parser = AmiParser()
    assert parser.feed(b"Asterisk Call Man") == []
    assert parser.feed(b"ager/9.0.0\r") == []
    assert parser.feed(b"\nEvent: FullyBooted\r\n\r\n") == [Message([("Event", "FullyBooted")])]
    assert parser.banner == "Asterisk Call Manager/9.0.0"


def test_no_banner_is_fine() -> None:
    parser = AmiParser()
    assert parser.feed(b"Event: A\r\n\r\n") == [Message([("Event", "A")])]
    assert parser.banner is None


def test_partial_frames_byte_by_byte() -> None:
    data = BANNER + b"Event: A\r\nX: 1\r\n\r\nEvent: B\r\nY: 2\r\n\r\nEvent: C\r\n"
    parser = AmiParser()
    msgs = parse_all(*(data[i : i + 1] for i in range(len(data))), parser=parser)
    assert [m.name for m in msgs] == ["A", "B"]
    assert parser.feed(b"\r\n") == [Message([("Event", "C")])]


def test_several_messages_in_one_feed() -> None:
    msgs = parse_all(b"Event: A\r\n\r\nEvent: B\r\n\r\nEvent: C\r\n\r\n")
    assert [m.name for m in msgs] == ["A", "B", "C"]


def test_bare_lf_and_mixed_terminators() -> None:
    msgs = parse_all(b"Event: A\nX: 1\n\nEvent: B\r\nY: 2\n\r\nEvent: C\r\n\n")
    assert [m.name for m in msgs] == ["A", "B", "C"]
    assert msgs[0]["X"] == "1"
    assert msgs[1]["Y"] == "2"


def test_extra_blank_lines_between_frames_are_ignored() -> None:
    msgs = parse_all(b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\nEvent: B\r\n\r\n")
    assert [m.name for m in msgs] == ["A", "B"]


def test_repeated_keys_are_kept_in_order() -> None:
    (msg,) = parse_all(
        b"Event: VarSet\r\nChanVariable: a=1\r\nChanVariable: b=2\r\nChanVariable: c=3\r\n\r\n"
    )
    assert msg.getall("ChanVariable") == ["a=1", "b=2", "c=3"]
    assert msg.get("ChanVariable") == "a=1"


def test_values_keep_colons_and_spaces() -> None:
    (msg,) = parse_all(b"Event: X\r\nAppData: Dial(PJSIP/1: x)  \r\nEmpty: \r\nBare:\r\n\r\n")
    assert msg["AppData"] == "Dial(PJSIP/1: x)  "
    assert msg["Empty"] == ""
    assert msg["Bare"] == ""


def test_lines_without_header_go_to_output() -> None:
    data = (
        b"Response: Follows\r\nActionID: 7\r\nPrivilege: Command\r\n"
        b"Channel              Location             State   Application(Data)\r\n"
        b"0 active channels\r\n"
        b"--END COMMAND--\r\n\r\n"
    )
    (msg,) = parse_all(data)
    assert msg.action_id == "7"
    assert msg.getall("Output") == [
        "Channel              Location             State   Application(Data)",
        "0 active channels",
        "--END COMMAND--",
    ]


def test_modern_command_output_headers() -> None:
    (msg,) = parse_all(
        b"Response: Success\r\nActionID: 8\r\nMessage: Command output follows\r\n"
        b"Output: line one\r\nOutput: line: two\r\n\r\n"
    )
    assert msg.getall("Output") == ["line one", "line: two"]


def test_non_utf8_bytes_are_replaced_not_fatal() -> None:
    (msg,) = parse_all(b"Event: Newchannel\r\nCallerIDName: M\xfcller \xff\r\n\r\n")
    assert msg["CallerIDName"] == "M\ufffdller \ufffd"


def test_utf8_split_across_feeds() -> None:
    raw = "Event: X\r\nCallerIDName: Jürgen €\r\n\r\n".encode()
    cut = raw.index("€".encode()) + 1
    assert parse_all(raw[:cut], raw[cut:])[0]["CallerIDName"] == "Jürgen €"


def test_oversized_frame_raises_and_keeps_earlier_messages() -> None:
    parser = AmiParser(max_frame_bytes=100)
    data = b"Event: ok\r\n\r\nEvent: big\r\n" + b"X: " + b"y" * 200 + b"\r\n\r\n"
    with pytest.raises(AmiProtocolError, match="exceeds 100 bytes") as info:
        parser.feed(data)
    assert info.value.messages == [Message([("Event", "ok")])]
    # The stream position is lost: the parser stays broken.
    with pytest.raises(AmiProtocolError):
        parser.feed(b"Event: later\r\n\r\n")


def test_oversized_frame_detected_without_newline() -> None:
    parser = AmiParser(max_frame_bytes=64)
    parser.feed(b"Event: X\r\n")
    with pytest.raises(AmiProtocolError):
        for _ in range(10):
            parser.feed(b"z" * 10)


def test_oversized_frame_built_from_many_small_lines() -> None:
    parser = AmiParser(max_frame_bytes=1000)
    with pytest.raises(AmiProtocolError):
        for i in range(200):
            parser.feed(f"Key{i}: v\r\n".encode())


def test_frame_size_limit_is_per_frame() -> None:
    parser = AmiParser(max_frame_bytes=40)
    frame = b"Event: A\r\nK: 0123456789\r\n\r\n"
    assert len(parse_all(frame * 50, parser=parser)) == 50


def test_default_limit_is_one_mebibyte() -> None:
    parser = AmiParser()
    assert parser.max_frame_bytes == 1024 * 1024
    big = b"Event: X\r\n" + b"Output: " + b"a" * 1000 + b"\r\n"
    assert parser.feed(big * 1000 + b"\r\n")[0].getall("Output")[0] == "a" * 1000
    with pytest.raises(AmiProtocolError):
        parser.feed(big * 1100)


def test_max_frame_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError):
        AmiParser(max_frame_bytes=0)


# -- encoder -----------------------------------------------------------------------------------


def test_encode_action_layout() -> None:
    data = encode_action("Originate", "abc-1", {"Channel": "PJSIP/100", "Timeout": 30000})
    assert data == (
        b"Action: Originate\r\nActionID: abc-1\r\nChannel: PJSIP/100\r\nTimeout: 30000\r\n\r\n"
    )


def test_encode_sequence_repeats_header() -> None:
    data = encode_action("Originate", "1", {"Variable": ["a=1", "b=2"], "Async": "true"})
    assert data == (
        b"Action: Originate\r\nActionID: 1\r\nVariable: a=1\r\nVariable: b=2\r\nAsync: true\r\n\r\n"
    )
    assert encode_action("Ping", "2", {"Variable": ()}) == b"Action: Ping\r\nActionID: 2\r\n\r\n"


def test_encode_bool_and_utf8() -> None:
    data = encode_action("X", "1", {"Flag": True, "Off": False, "Name": "Jürgen"})
    assert (
        data
        == "Action: X\r\nActionID: 1\r\nFlag: true\r\nOff: false\r\nName: Jürgen\r\n\r\n".encode()
    )


@pytest.mark.parametrize(
    ("name", "action_id", "fields"),
    [
        ("Redirect", "1", {"Channel": "PJSIP/1\r\n\r\nAction: Hangup"}),
        ("Redirect", "1", {"Channel": "x\ny"}),
        ("Redirect", "1", {"Channel": "x\ry"}),
        ("Redirect", "1", {"Chan\nnel": "x"}),
        ("Redirect", "1", {"Variable": ["ok=1", "bad=\r\n"]}),
        ("Ping\r\nAction: Hangup", "1", {}),
        ("Ping", "1\r\nChannel: x", {}),
    ],
)
def test_encode_rejects_header_injection(
    name: str, action_id: str, fields: dict[str, str | list[str]]
) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        encode_action(name, action_id, fields)


@pytest.mark.parametrize("key", ["", "A B", "A:B", "Action", "actionid"])
def test_encode_rejects_bad_or_reserved_keys(key: str) -> None:
    with pytest.raises(ValueError):
        encode_action("Ping", "1", {key: "v"})


def test_encode_rejects_empty_name_and_non_str_items() -> None:
    with pytest.raises(ValueError):
        encode_action("", "1", {})
    with pytest.raises(TypeError):
        encode_action("X", "1", {"Variable": [1]})  # type: ignore[list-item]


# -- properties --------------------------------------------------------------------------------

_key_chars = st.characters(codec="ascii", categories=("Lu", "Ll", "Nd"), include_characters="-_.")
keys = st.text(_key_chars, min_size=1, max_size=12).filter(
    lambda k: k.lower() not in ("action", "actionid")
)
values = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=40)
field_values = st.one_of(values, st.integers(-(10**6), 10**6), st.lists(values, max_size=3))
names = st.text(_key_chars, min_size=1, max_size=20)
actions = st.tuples(names, values, st.dictionaries(keys, field_values, max_size=6))


def expected_pairs(
    name: str, action_id: str, fields: dict[str, str | int | list[str]]
) -> list[tuple[str, str]]:
    pairs = [("Action", name), ("ActionID", action_id)]
    for key, value in fields.items():
        if isinstance(value, list):
            pairs.extend((key, v) for v in value)
        else:
            pairs.append((key, str(value)))
    return pairs


@given(action=actions)
def test_encode_parse_roundtrip(action: tuple[str, str, dict[str, str | int | list[str]]]) -> None:
    name, action_id, fields = action
    (msg,) = AmiParser().feed(encode_action(name, action_id, fields))
    assert msg.items() == expected_pairs(name, action_id, fields)
    assert msg.action_id == action_id


@settings(max_examples=200)
@given(batch=st.lists(actions, min_size=1, max_size=5), data=st.data())
def test_roundtrip_with_random_chunk_splits(
    batch: list[tuple[str, str, dict[str, str | int | list[str]]]], data: st.DataObject
) -> None:
    stream = BANNER + b"".join(encode_action(n, a, f) for n, a, f in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    bounds = [0, *cuts, len(stream)]
    chunks = [stream[a:b] for a, b in pairwise(bounds)]
    parser = AmiParser()
    msgs = parse_all(*chunks, parser=parser)
    assert parser.banner == "Asterisk Call Manager/9.0.0"
    assert [m.items() for m in msgs] == [expected_pairs(n, a, f) for n, a, f in batch]


@given(blob=st.binary(max_size=300), data=st.data())
def test_parser_never_crashes_on_garbage(blob: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(blob)))
    parser = AmiParser(max_frame_bytes=10_000)
    msgs = parse_all(blob[:cut], blob[cut:], parser=parser)
    for msg in msgs:
        assert len(msg) > 0
