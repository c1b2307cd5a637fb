"""Caller numbers are personal data: logs show them masked, records keep them whole."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: Masked characters shown at most; a longer caller ID (hostile, or a SIP URI) is summarised
#: with its length, so one caller cannot fill the log with a line of stars.
_MAX_HIDDEN = 20


def mask_number(number: str | None) -> str:
    if not number:
        return "(none)"
    digits = str(number)
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 10 else 2
    # The few characters left visible must not carry a line break or an escape sequence into
    # the log: a caller ID is whatever the caller's network put in it.
    head, tail = _printable(digits[:keep]), _printable(digits[-2:])
    hidden = len(digits) - keep - 2
    if hidden > _MAX_HIDDEN:
        return f"{head}{'*' * _MAX_HIDDEN}{tail} ({len(digits)} chars)"
    return head + "*" * hidden + tail


def clean_number(number: str) -> str:
    """A caller number as presented, without control characters.

    They are never part of a number, and they would reach Asterisk again in actions that
    carry the number (an Originate's caller ID, a callback's dial), where a CR or LF is refused
    as header injection and a NUL cuts the string short. Everything else, non-ASCII included,
    is kept: records keep what the caller's network sent.
    """
    if number.isprintable():
        return number
    return "".join(ch for ch in number if unicodedata.category(ch) != "Cc")


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


#: Fields of a record that hold the caller's number or name (personal data, and chosen by
#: whoever placed the call).
CALLER_FIELDS = frozenset({"caller", "caller_name", "number", "callback_number"})


def masked_fields(pairs: Iterable[tuple[str, object]]) -> str:
    """`key=value` pairs for a log line, the caller's fields masked and every value cut to
    something printable: a record logged whole (to recover it by hand), safely."""
    shown = []
    for key, value in pairs:
        text = mask_number(str(value)) if key.lower() in CALLER_FIELDS else repr(value)
        shown.append(f"{key}={_printable(text[:200])}")
    return " ".join(shown)
