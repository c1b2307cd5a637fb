"""Caller numbers in logs: masked, bounded, and unable to forge a log line."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.privacy import clean_number, mask_number


def test_ordinary_numbers_keep_their_familiar_mask() -> None:
    assert mask_number("13800138000") == "138******00"
    assert mask_number("0301234567") == "030*****67"
    assert mask_number("12345") == "12*45"
    assert mask_number("1234") == "****"
    assert mask_number(None) == mask_number("") == "(none)"


def test_a_400_character_caller_id_gives_a_short_line() -> None:
    masked = mask_number("8" * 400)
    assert masked == "888" + "*" * 20 + "88 (400 chars)"


@pytest.mark.parametrize(
    "caller",
    [
        "123\r\n2026-11-24 INFO acd.engine: forged line",
        "\x1b[2J\x1b[31m123456789",
        "12\x00345\u202e6789",
    ],
)
def test_visible_characters_cannot_break_or_colour_the_log(caller: str) -> None:
    masked = mask_number(caller)
    assert masked.isprintable()
    assert "forged" not in masked


@settings(max_examples=300)
@given(st.text(max_size=2_000))
def test_any_caller_id_masks_to_a_short_printable_string(caller: str) -> None:
    masked = mask_number(caller)
    if not caller:
        assert masked == "(none)"
        return
    assert masked.isprintable()
    assert len(masked) <= 3 + 20 + 2 + len(" (2000 chars)")
    body = masked.rsplit(" (", 1)[0] if masked.endswith(" chars)") else masked
    assert sum(ch != "*" for ch in body) <= 5  # never more than five characters of the number


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_clean_number_drops_control_characters_and_nothing_else(caller: str) -> None:
    cleaned = clean_number(caller)
    assert not any(ch in cleaned for ch in "\r\n\x00\x1b\x7f")
    assert [ch for ch in caller if ch.isprintable()] == [ch for ch in cleaned if ch.isprintable()]
    assert clean_number(cleaned) == cleaned


def test_clean_number_keeps_what_networks_send() -> None:
    assert clean_number("+86 (10) 1234-5678") == "+86 (10) 1234-5678"
    assert clean_number("张三 ١٢٣") == "张三 ١٢٣"
    assert clean_number("138\r\n0013\x008000") == "13800138000"


def test_a_hostile_caller_id_in_a_log_record_stays_on_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("acd.ivr").info(
        "IVR %s: call from %s", "home", mask_number("12\n" + "9" * 500 + "\r\nFAKE")
    )
    (record,) = caplog.records
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
    assert len(record.getMessage()) < 80
