"""The AGI environment parsed without a socket: what Asterisk 22 sends, and what a hostile
peer might."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.agi.environment import AgiRequest, HeaderParser, parse_header, split_script
from acd.agi.protocol import AgiProtocolError

# As res_agi writes it for AGI(agi://127.0.0.1:4573/ivr?hotline=home,first,with: colon).
HEADER = (
    b"agi_network: yes\n"
    b"agi_network_script: ivr?hotline=home&lang=de\n"
    b"agi_request: agi://127.0.0.1:4573/ivr?hotline=home&lang=de\n"
    b"agi_channel: PJSIP/trunk-00000001\n"
    b"agi_language: en\n"
    b"agi_type: PJSIP\n"
    b"agi_uniqueid: 1700000000.1\n"
    b"agi_version: 22.1.0\n"
    b"agi_callerid: 0301234567\n"
    b"agi_calleridname: Erika Mustermann\n"
    b"agi_callingpres: 0\n"
    b"agi_callingani2: 0\n"
    b"agi_callington: 0\n"
    b"agi_callingtns: 0\n"
    b"agi_dnid: 8000\n"
    b"agi_rdnis: unknown\n"
    b"agi_context: from-trunk\n"
    b"agi_extension: 8000\n"
    b"agi_priority: 2\n"
    b"agi_enhanced: 0.0\n"
    b"agi_accountcode: \n"
    b"agi_threadid: 139872341776128\n"
    b"agi_arg_1: first\n"
    b"agi_arg_2: with: colon\n"
    b"\n"
)


def _check_request(request: AgiRequest) -> None:
    assert request.script == "ivr"
    assert request.params == {"hotline": "home", "lang": "de"}
    assert request.args == ["first", "with: colon"]
    assert request.channel == "PJSIP/trunk-00000001"
    assert request.uniqueid == "1700000000.1"
    assert request.callerid == "0301234567"
    assert request.calleridname == "Erika Mustermann"
    assert request.context == "from-trunk"
    assert request.extension == "8000"
    assert request.priority == "2"
    assert request.rdnis == "unknown"
    assert request.accountcode == ""
    assert request.channel_type == "PJSIP"
    assert request.url == "agi://127.0.0.1:4573/ivr?hotline=home&lang=de"
    assert request.env["agi_network"] == "yes"


class TestHeader:
    def test_full_asterisk_header(self) -> None:
        _check_request(parse_header(HEADER))

    def test_byte_at_a_time(self) -> None:
        parser = HeaderParser()
        results = [parser.feed(HEADER[i : i + 1]) for i in range(len(HEADER))]
        assert all(r is None for r in results[:-1])
        assert results[-1] is not None
        _check_request(results[-1])

    def test_crlf_lines(self) -> None:
        _check_request(parse_header(HEADER.replace(b"\n", b"\r\n")))

    def test_bytes_after_the_blank_line_are_kept(self) -> None:
        parser = HeaderParser()
        assert parser.feed(HEADER + b"HANGUP\n") is not None
        assert parser.remainder == b"HANGUP\n"
        parser.feed(b"more")
        assert parser.remainder == b"HANGUP\nmore"

    def test_script_taken_from_agi_request_when_network_script_missing(self) -> None:
        request = parse_header(
            b"agi_request: agi://10.0.0.1/queue/?hotline=sales\nagi_channel: X\n\n"
        )
        assert request.script == "queue"
        assert request.params == {"hotline": "sales"}

    def test_no_script_at_all_is_the_empty_route(self) -> None:
        # res_agi omits agi_network_script for AGI(agi://host).
        request = parse_header(b"agi_network: yes\nagi_request: agi://10.0.0.1\n\n")
        assert request.script == ""
        assert request.params == {}
        assert request.args == []

    def test_args_stop_at_the_first_gap(self) -> None:
        request = parse_header(b"agi_arg_1: a\nagi_arg_2: \nagi_arg_4: d\n\n")
        assert request.args == ["a", ""]

    def test_value_without_space_after_colon(self) -> None:
        assert parse_header(b"agi_channel:Local/x\n\n").channel == "Local/x"

    @pytest.mark.parametrize(
        ("raw", "script", "params"),
        [
            ("ivr?hotline=home", "ivr", {"hotline": "home"}),
            ("/ivr/", "ivr", {}),
            ("ivr/sub?a=1&a=2&flag", "ivr/sub", {"a": "1", "flag": ""}),
            ("ivr?name=J%C3%BCrgen+M", "ivr", {"name": "Jürgen M"}),
            ("?hotline=x", "", {"hotline": "x"}),
            ("", "", {}),
        ],
    )
    def test_split_script(self, raw: str, script: str, params: dict[str, str]) -> None:
        assert split_script(raw) == (script, params)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"\n", "empty AGI environment"),
            (b"GET / HTTP/1.1\r\nHost: example\r\n\r\n", "not an AGI environment line"),
            (b"Host: example\n\n", "not an AGI environment line"),
            (b"agi channel: x\n\n", "not an AGI environment line"),
            (b"agi_caller\xffid: x\n\n", "not an AGI environment line"),
            (b"agi_x: " + b"a" * 70_000 + b"\n\n", "longer than"),
            (b"agi_x: " + b"a" * 70_000, "longer than"),
            (b"agi_x: y\n" * 10_000, "longer than"),
        ],
    )
    def test_bad_headers(self, data: bytes, message: str) -> None:
        parser = HeaderParser()
        with pytest.raises(AgiProtocolError, match=message):
            parser.feed(data)
        with pytest.raises(AgiProtocolError, match=message):
            parser.feed(b"agi_network: yes\n\n")  # a failed parser stays failed

    def test_eof_before_the_blank_line(self) -> None:
        parser = HeaderParser()
        assert parser.feed(HEADER[:-1]) is None
        with pytest.raises(AgiProtocolError, match="connection closed"):
            parser.feed_eof()

    def test_eof_after_the_blank_line_is_fine(self) -> None:
        parser = HeaderParser()
        parser.feed(HEADER)
        parser.feed_eof()


# --- properties -------------------------------------------------------------------------------


_line_text = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\0"))
_keys = st.from_regex(r"agi_[a-z0-9_]{1,20}", fullmatch=True)


@given(st.binary(max_size=300), st.lists(st.integers(1, 50), max_size=10))
def test_random_bytes_only_raise_protocol_errors(data: bytes, cuts: list[int]) -> None:
    parser = HeaderParser(max_bytes=200)
    pos = 0
    try:
        for size in [*cuts, len(data)]:
            parser.feed(data[pos : pos + size])
            pos += size
        parser.feed_eof()
    except AgiProtocolError:
        pass
    else:
        assert parser.request is not None


@given(st.dictionaries(_keys, _line_text, min_size=1, max_size=8), st.data())
def test_any_valid_env_round_trips_in_any_chunking(
    env: dict[str, str], data: st.DataObject
) -> None:
    raw = b"".join(f"{k}: {v}\n".encode() for k, v in env.items()) + b"\n"
    cuts = sorted(data.draw(st.sets(st.integers(1, len(raw) - 1), max_size=10)))
    parser = HeaderParser()
    request = None
    for start, end in zip([0, *cuts], [*cuts, len(raw)], strict=True):
        assert request is None
        request = parser.feed(raw[start:end])
    assert request is not None
    assert request.env == env


@given(st.dictionaries(_keys, _line_text, min_size=1, max_size=8), st.data())
def test_truncated_header_is_a_protocol_error(env: dict[str, str], data: st.DataObject) -> None:
    raw = b"".join(f"{k}: {v}\n".encode() for k, v in env.items()) + b"\n"
    cut = data.draw(st.integers(0, len(raw) - 1))
    parser = HeaderParser()
    assert parser.feed(raw[:cut]) is None
    with pytest.raises(AgiProtocolError):
        parser.feed_eof()
