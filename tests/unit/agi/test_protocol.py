"""Sans-I/O FastAGI parsing: what Asterisk 22 really sends, and what a hostile peer might."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.agi.protocol import (
    MAX_COMMAND_BYTES,
    AgiProtocolError,
    AgiReply,
    AgiRequest,
    HeaderParser,
    Notice,
    ReplyParser,
    command_line,
    parse_header,
    parse_reply,
    quote,
    split_script,
)

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


class TestReply:
    @pytest.mark.parametrize(
        ("line", "code", "result", "data", "endpos"),
        [
            ("200 result=0", 200, "0", "", None),
            ("200 result=1 (Erika)", 200, "1", "Erika", None),
            ("200 result=1 (a (nested) value)", 200, "1", "a (nested) value", None),
            ("200 result=1 ()", 200, "1", "", None),
            ("200 result=1 (x) endpos=5)", 200, "1", "x) endpos=5", None),
            ("200 result=0 endpos=12345", 200, "0", "", 12345),
            ("200 result=-1 endpos=0", 200, "-1", "", 0),
            ("200 result=49 (dtmf) endpos=8000", 200, "49", "dtmf", 8000),
            ("200 result=1234", 200, "1234", "", None),
            ("200 result=12 (timeout)", 200, "12", "timeout", None),
            ("200 result= (timeout)", 200, "", "timeout", None),
            ("200 result=*#", 200, "*#", "", None),
            ("510 Invalid or unknown command", 510, "", "", None),
            (
                "511 Command Not Permitted on a dead channel or intercept routine",
                511,
                "",
                "",
                None,
            ),
            ("520 Invalid command syntax.  Proper usage not available.", 520, "", "", None),
        ],
    )
    def test_single_line(
        self, line: str, code: int, result: str, data: str, endpos: int | None
    ) -> None:
        assert parse_reply(line) == AgiReply(code, result, data, endpos, line)

    def test_unknown_trailing_fields_are_kept_as_data(self) -> None:
        reply = parse_reply("200 result=1 (speech) endpos=0 results=1 score0=900")
        assert reply.result == "1"
        assert reply.data == "(speech) endpos=0 results=1 score0=900"

    @pytest.mark.parametrize("line", ["200", "200 ok", "HANGUP now", "20 result=1", "garbage"])
    def test_not_a_reply(self, line: str) -> None:
        with pytest.raises(AgiProtocolError):
            parse_reply(line)

    def test_hangup_notice_and_blank_lines(self) -> None:
        parser = ReplyParser()
        assert parser.feed_line(b"HANGUP\n") is Notice.HANGUP
        assert parser.feed_line(b"\r\n") is None
        assert parser.feed_line(b"200 result=1\r\n") == parse_reply("200 result=1")

    def test_multi_line_520(self) -> None:
        lines = [
            b"520-Invalid command syntax.  Proper usage follows:\n",
            b" Usage: GET DATA <file to be streamed> [timeout] [maximum digits]\n",
            b"HANGUP\n",  # inside the block it is usage text, not a notice
            b"\n",
            b"520 End of proper usage.\n",
        ]
        parser = ReplyParser()
        results = [parser.feed_line(line) for line in lines]
        assert results[:-1] == [None] * 4
        reply = results[-1]
        assert isinstance(reply, AgiReply)
        assert reply.code == 520
        assert reply.raw.splitlines()[0].startswith("520-Invalid command syntax")
        assert reply.usage == (
            " Usage: GET DATA <file to be streamed> [timeout] [maximum digits]\nHANGUP"
        )
        assert not parser.in_multiline
        assert parser.feed_line(b"200 result=0\n") == parse_reply("200 result=0")

    def test_multi_line_usage_without_final_newline(self) -> None:
        # res_agi writes the usage with "%s": without a trailing newline the end line is glued.
        parser = ReplyParser()
        assert parser.feed_line(b"520-Invalid command syntax.  Proper usage follows:\n") is None
        reply = parser.feed_line(b" Usage: ANSWER520 End of proper usage.\n")
        assert isinstance(reply, AgiReply)
        assert reply.usage == " Usage: ANSWER"

    def test_oversized_multi_line_reply(self) -> None:
        parser = ReplyParser(max_bytes=1000)
        parser.feed_line(b"520-Invalid command syntax.  Proper usage follows:\n")
        with pytest.raises(AgiProtocolError, match="longer than"):
            for _ in range(100):
                parser.feed_line(b"x" * 50 + b"\n")

    def test_odd_bytes_in_a_value_do_not_fail(self) -> None:
        reply = ReplyParser().feed_line(b"200 result=1 (M\xfcller)\n")
        assert isinstance(reply, AgiReply)
        assert reply.data == "M\ufffdller"


class TestCommands:
    @pytest.mark.parametrize(
        ("value", "quoted"),
        [
            ("", '""'),
            ("hello world", '"hello world"'),
            ('say "hi"', '"say \\"hi\\""'),
            ("C:\\path", '"C:\\\\path"'),
            ("Jürgen", '"Jürgen"'),
        ],
    )
    def test_quote(self, value: str, quoted: str) -> None:
        assert quote(value) == quoted

    @pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\0b"])
    def test_quote_refuses_line_breaks(self, value: str) -> None:
        with pytest.raises(ValueError):
            quote(value)

    def test_command_line(self) -> None:
        assert command_line("ANSWER") == b"ANSWER\n"
        assert len(command_line("V" * MAX_COMMAND_BYTES)) == MAX_COMMAND_BYTES + 1
        for bad in ["", "  ", "ANSWER\nHANGUP", "V" * (MAX_COMMAND_BYTES + 1)]:
            with pytest.raises(ValueError):
                command_line(bad)


# --- properties -------------------------------------------------------------------------------


def asterisk_parse_args(line: str) -> list[str]:
    """A line-by-line port of res_agi.c parse_args(), the consumer of `quote`."""
    args: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    whitespace = True
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                cur = []
                args.append("")
                whitespace = False
            escaped = False
            continue
        if ch in " \t" and not quoted and not escaped:
            whitespace = True
            if cur is not None:
                args[-1] = "".join(cur)
            cur = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            cur = []
            args.append("")
            whitespace = False
        assert cur is not None
        cur.append(ch)
        args[-1] = "".join(cur)
        escaped = False
    return args


_line_text = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\0"))
_keys = st.from_regex(r"agi_[a-z0-9_]{1,20}", fullmatch=True)


@given(st.lists(_line_text, min_size=1, max_size=5))
def test_quote_round_trips_through_asterisk_parser(values: list[str]) -> None:
    line = "SET VARIABLE " + " ".join(quote(v) for v in values)
    assert asterisk_parse_args(line) == ["SET", "VARIABLE", *values]


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


@given(st.lists(st.binary(max_size=120), max_size=20))
def test_random_reply_lines_only_raise_protocol_errors(lines: list[bytes]) -> None:
    parser = ReplyParser(max_bytes=500)
    for line in lines:
        try:
            item = parser.feed_line(line + b"\n")
        except AgiProtocolError:
            return
        assert item is None or item is Notice.HANGUP or isinstance(item, AgiReply)


@given(
    st.from_regex(r"-?[0-9]{1,5}|[0-9*#]{0,8}", fullmatch=True),
    _line_text,
    st.none() | st.integers(0, 10**12),
)
def test_reply_data_and_endpos_survive_any_value(
    result: str, value: str, endpos: int | None
) -> None:
    line = f"200 result={result} ({value})" + (f" endpos={endpos}" if endpos is not None else "")
    reply = parse_reply(line)
    assert (reply.result, reply.data, reply.endpos) == (result, value, endpos)
