"""Rows as the JSON-ready values the HTTP API, the CLI and the screen pop serve, and the checks
every read applies to its arguments.

One place for these so that a call looks the same in `acd calls`, `/api/calls` and a caller's
history: ISO-8601 times with their offset, float seconds, masked numbers where listed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from acd.privacy import mask_number


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO-8601 with its offset; None stays None."""
    return None if value is None else value.isoformat()


def check_limit(limit: int) -> None:
    """ValueError unless `limit` asks for at least one row."""
    if limit < 1:
        raise ValueError("limit must be at least 1")


def check_aware(name: str, value: datetime | None) -> None:
    """ValueError if `value` (the argument `name`) is a naive datetime: the records store UTC."""
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def aware_now(now: datetime | None) -> datetime:
    """`now` (checked to be aware), or the current time when None."""
    if now is None:
        return datetime.now(UTC)
    check_aware("now", now)
    return now


_TIMES = frozenset(
    {
        "entered_at",
        "answered_at",
        "ended_at",
        "requested_at",
        "due_at",
        "not_before",
        "updated_at",
        "created_at",
    }
)
_SECONDS = frozenset({"wait_seconds", "talk_seconds", "seconds"})
_FIELDS = (
    "call_id",
    "caller",
    "hotline",
    "queue",
    "agent",
    "entered_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "disposition",
    "hangup_side",
    "offers",
    "kind",
    "survey_score",
    "survey_scale",
    "dissatisfied",
    "ivr_path",
)
_CALLBACK_FIELDS = (
    "id",
    "call_id",
    "caller",
    "hotline",
    "queue",
    "kind",
    "requested_at",
    "due_at",
    "not_before",
    "status",
    "attempts",
    "updated_at",
)
_MESSAGE_FIELDS = ("id", "call_id", "caller", "hotline", "path", "seconds", "created_at")


def _to_dict(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in fields:
        value = row[name]
        if value is not None and name in _TIMES:
            value = value.isoformat()
        elif value is not None and name in _SECONDS:
            value = float(value)
        elif value is not None and name == "dissatisfied":
            value = bool(value)
        out[name] = value
    return out


def call_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `calls` row as JSON-ready values: ISO-8601 times with their offset, float seconds.

    `updated_at` is left out: it says when the row was written, not anything about the call.
    """
    return _to_dict(row, _FIELDS)


def callback_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `callbacks` row as JSON-ready values; `updated_at` is when its status last moved."""
    return _to_dict(row, _CALLBACK_FIELDS)


def message_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `messages` row as JSON-ready values."""
    return _to_dict(row, _MESSAGE_FIELDS)


_RECORDING_FIELDS = (
    "id",
    "call_id",
    "agent",
    "caller",
    "queue",
    "path",
    "started_at",
    "talk_seconds",
    "seconds",
    "size",
    "format",
    "sha256",
    "status",
    "qa_score",
    "qa_comment",
    "qa_reviewer",
    "qa_at",
    "purged_at",
)
_REVIEW_FIELDS = (
    "id",
    "call_id",
    "agent",
    "reason",
    "created_at",
    "due_at",
    "done_at",
    "note",
    "reviewer",
)
_RECORDING_TIMES = frozenset(
    {"started_at", "qa_at", "purged_at", "created_at", "due_at", "done_at"}
)


def _pauses(raw: str | None) -> list[list[float]]:
    try:
        loaded = json.loads(raw or "[]")
    except ValueError:
        return []
    out: list[list[float]] = []
    for pause in loaded if isinstance(loaded, list) else []:
        try:
            start, end = pause
            out.append([float(start), float(end)])
        except (TypeError, ValueError):
            continue
    return out


def recording_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `recordings` row (optionally joined with its call) as JSON-ready values.

    Besides the stored `caller` it carries `caller_masked` for listings; `dissatisfied` and
    `survey_score` come from the call's row (False / None without one).
    """
    out: dict[str, object] = {}
    for name in _RECORDING_FIELDS:
        value = row[name]
        if name in _RECORDING_TIMES:
            value = iso(value)
        elif value is not None and name in ("talk_seconds", "seconds"):
            value = float(value)
        out[name] = value
        if name == "caller":
            out["caller_masked"] = mask_number(value)
    out["pauses"] = _pauses(row["pauses"])
    out["dissatisfied"] = bool(row.get("dissatisfied") or False)
    out["survey_score"] = row.get("survey_score")
    return out


def review_to_dict(
    row: Mapping[str, Any], now: datetime, recording_ids: list[int]
) -> dict[str, object]:
    """A `reviews` row as JSON-ready values, with `overdue` at `now` and the call's recordings."""
    item: dict[str, object] = {
        name: iso(row[name]) if name in _RECORDING_TIMES else row[name] for name in _REVIEW_FIELDS
    }
    finished = row["done_at"] if row["done_at"] is not None else now
    item["overdue"] = finished > row["due_at"]
    item["recording_ids"] = recording_ids
    return item
