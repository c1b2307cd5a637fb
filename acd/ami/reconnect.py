"""Between two AMI sessions: how long to wait, and what to tell the operator about the last one.

Apart from the client so the backoff curve and the log wording, both things ops look at during
an outage, can be read and changed without reading the connection's state machine.
"""

from __future__ import annotations

import logging
import random

from acd.ami.codec import AmiException
from acd.ami.errors import LoginRejected, Unreachable


def backoff_delay(failures: int, initial: float, maximum: float) -> float:
    """Exponential backoff with jitter, so many engines restarting together do not stampede
    Asterisk."""
    base = min(maximum, initial * (2.0 ** min(failures, 30)))
    return base * random.uniform(0.8, 1.0)


def log_session_end(
    log: logging.Logger, address: str, username: str, exc: BaseException | None, delay: float
) -> None:
    """One log line for why a session ended, at a level that says whether a human is needed."""
    if isinstance(exc, Unreachable):
        log.warning(
            "Asterisk AMI not reachable at %s (%s), retrying in %s", address, exc, _secs(delay)
        )
    elif isinstance(exc, LoginRejected):
        log.error(
            "Asterisk AMI login as %r at %s rejected: %s; check manager.conf credentials "
            "and permit/deny; retrying in %s",
            username,
            address,
            exc,
            _secs(delay),
        )
    elif isinstance(exc, AmiException | OSError | TimeoutError | EOFError):
        log.warning(
            "Asterisk AMI connection to %s lost: %s; reconnecting in %s",
            address,
            exc,
            _secs(delay),
        )
    elif exc is not None:
        log.error(
            "Asterisk AMI session to %s failed unexpectedly; reconnecting in %s",
            address,
            _secs(delay),
            exc_info=exc,
        )
    else:
        log.warning(
            "Asterisk AMI connection to %s ended; reconnecting in %s", address, _secs(delay)
        )


def _secs(delay: float) -> str:
    """Readable at production scale ("2.0s") without showing test-scale delays as "0.0s"."""
    return f"{delay:.1f}s" if delay >= 0.1 else f"{delay:.3f}s"
