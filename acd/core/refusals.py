"""What the core raises for a request it will not carry out; the message is for the asker.

Both are raised by `Core.handle` while it validates the event, before any state changes.
"""

from __future__ import annotations


class Refused(Exception):
    """A request the rules in force do not allow (a break at peak time, a callback while
    callbacks are suspended); the message is for the person who asked."""


class UnknownAgent(Exception):
    def __init__(self, number: str) -> None:
        super().__init__(f"unknown agent {number}")
