"""The wait between two AMI sessions and the line logged about the one that ended."""

from __future__ import annotations

import logging

import pytest

from acd.ami import AmiDisconnected
from acd.ami.errors import LoginRejected, Unreachable
from acd.ami.reconnect import backoff_delay, log_session_end

LOG = logging.getLogger("acd.ami.test")


def test_backoff_doubles_with_jitter_below_the_cap() -> None:
    for failures, nominal in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0)]:
        delay = backoff_delay(failures, 0.5, 30.0)
        assert 0.8 * nominal <= delay <= nominal


def test_backoff_never_exceeds_the_cap_even_after_many_failures() -> None:
    assert 0.8 * 30.0 <= backoff_delay(10_000, 0.5, 30.0) <= 30.0


@pytest.mark.parametrize(
    ("exc", "level", "words"),
    [
        (Unreachable("refused"), logging.WARNING, "not reachable"),
        (LoginRejected("Authentication failed"), logging.ERROR, "check manager.conf"),
        (AmiDisconnected("closed"), logging.WARNING, "lost: closed"),
        (RuntimeError("bug"), logging.ERROR, "failed unexpectedly"),
        (None, logging.WARNING, "ended"),
    ],
)
def test_the_log_line_says_what_ended_the_session(
    caplog: pytest.LogCaptureFixture, exc: BaseException | None, level: int, words: str
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOG.name)

    log_session_end(LOG, "127.0.0.1:5038", "acd", exc, 2.0)

    (record,) = caplog.records
    assert record.levelno == level
    assert words in record.getMessage()
    assert "2.0s" in record.getMessage()


def test_test_scale_delays_are_not_shown_as_zero(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOG.name)
    log_session_end(LOG, "127.0.0.1:5038", "acd", None, 0.02)
    assert "0.020s" in caplog.text
