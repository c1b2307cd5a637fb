"""Caller numbers are personal data: logs show them masked, records keep them whole."""

from __future__ import annotations


def mask_number(number: str | None) -> str:
    if not number:
        return "(none)"
    digits = str(number)
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 10 else 2
    return digits[:keep] + "*" * (len(digits) - keep - 2) + digits[-2:]
