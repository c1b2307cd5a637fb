"""A command the core refuses is refused before anything is settled: the refusal loses no
decision (a reload's moves still come out, at the next event)."""

from __future__ import annotations

import pytest

from acd.config import Config
from acd.core import events as ev
from acd.core.core import Refused, UnknownAgent
from acd.core.facts import CallMoved
from acd.core.vocab import ExitReason
from agents.state import IllegalTransition
from tests.unit.core.conftest import Driver
from tests.unit.site import configured, queue


def reloaded_without_sales(config: Config) -> Driver:
    """A caller waits in sales; then a reload drops sales (its caller moves to general at
    the next event, when the core rebuilds with the clock)."""
    driver = Driver(configured(config, queues=[queue("general"), queue("sales")]))
    driver.call("c1", "sales")
    driver.core.reconfigure(configured(config, queues=[queue("general")]))
    return driver


def moves(driver: Driver) -> list[CallMoved]:
    return driver.of(CallMoved)


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        (ev.SetQueues("1001", ("nowhere",)), Refused),
        (ev.AgentReady("9999"), UnknownAgent),
        (ev.AgentReady("1001"), IllegalTransition),  # logged out: cannot be ready
        (ev.KeepCallback("nobody"), Refused),
    ],
)
def test_a_refused_command_after_a_reload_loses_none_of_the_reloads_moves(
    config: Config, command: ev.Event, refusal: type[Exception]
) -> None:
    driver = reloaded_without_sales(config)
    with pytest.raises(refusal):
        driver.send(command)
    assert moves(driver) == []  # nothing was settled, so nothing was thrown away
    driver.tick()
    (moved,) = moves(driver)
    assert (moved.call_id, moved.from_queue, moved.to_queue, moved.reason) == (
        "c1",
        "sales",
        "general",
        ExitReason.REMOVED,
    )


def test_a_refused_callback_request_changes_nothing(config: Config) -> None:
    driver = Driver(configured(config, queues=[queue(virtual_hold=False)]))
    driver.call("c1")
    before = driver.core.snapshot(driver.now())
    with pytest.raises(Refused, match="does not offer callbacks"):
        driver.send(ev.KeepCallback("c1"))
    assert driver.core.snapshot(driver.now()) == before
