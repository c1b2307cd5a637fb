"""FastAGI replies and commands without a socket: what Asterisk 22 sends, and what a hostile
peer might."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.agi.protocol import (
    MAX_COMMAND_BYTES,
    AgiProtocolError,
    AgiReply,
    Notice,
    ReplyParser,
    command_line,
    parse_reply,
    quote,
)


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


@given(st.lists(_line_text, min_size=1, max_size=5))
def test_quote_round_trips_through_asterisk_parser(values: list[str]) -> None:
    line = "SET VARIABLE " + " ".join(quote(v) for v in values)
    assert asterisk_parse_args(line) == ["SET", "VARIABLE", *values]


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
