"""The IVR's rules, node by node: type-ahead, retries, fallback, back, repeat, callbacks,
messages, transfers, hours and the seeds' silent-call rule. Never a dead end.

On the test site (tests/unit/site.py), whose home line's menus and hours are written there, so
an ops edit of the shipped menus cannot break these rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acd.config import Config
from ivr.flow import (
    Callback,
    Collect,
    Enqueue,
    Hangup,
    IvrFlow,
    Listen,
    Message,
    TransferOut,
)
from tests.unit.site import site, site_data

# A Tuesday in winter, 10:00 in Shanghai: open.
OPEN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
# The same day at 20:00 in Shanghai: closed.
CLOSED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def config() -> Config:
    return site()


def started(config: Config, now: datetime = OPEN) -> IvrFlow:
    flow = IvrFlow(config, "home")
    flow.start(now)
    return flow


def test_greeting_then_menu_then_queue(config: Config) -> None:
    flow = IvrFlow(config, "home")
    step = flow.start(OPEN)
    assert isinstance(step, Collect) and step.prompts == ("greeting", "main_menu")
    assert flow.on_digit("2") == Enqueue("repairs", 0)


def test_operator_key_queues_with_priority(config: Config) -> None:
    assert started(config).on_digit("0") == Enqueue("general", 5)


def test_two_levels_into_a_queue(config: Config) -> None:
    flow = started(config)
    step = flow.on_digit("4")
    assert isinstance(step, Collect) and step.prompts == ("services_menu",)
    assert flow.on_digit("1") == Enqueue("jobs", 1)
    assert flow.path == ["main", "4", "services", "1"]


def test_back_and_repeat(config: Config) -> None:
    flow = started(config)
    flow.on_digit("4")
    step = flow.on_digit("*")
    assert isinstance(step, Collect) and step.prompts == ("services_menu",)
    step = flow.on_digit("#")
    assert isinstance(step, Collect) and step.prompts == ("main_menu",)
    assert flow.on_digit("1") == Enqueue("general", 0)


def test_invalid_then_timeout_then_fallback(config: Config) -> None:
    flow = started(config)
    step = flow.on_digit("7")
    assert isinstance(step, Collect) and step.prompts == ("invalid", "main_menu")
    flow.pressed = True  # a caller who pressed a key is there: no silence check
    step = flow.on_timeout()
    assert isinstance(step, Collect) and step.prompts == ("main_menu",)
    assert flow.on_timeout() == Enqueue("general", 0)  # 2 retries, then the fallback


def test_callback_message_and_transfer_nodes(config: Config) -> None:
    assert started(config).on_digit("9") == Callback("general", "callback", 1, ("callback_ok",))
    flow = started(config)
    flow.on_digit("4")
    assert flow.on_digit("2") == Message(("leave_message",), 120, "message_thanks")
    flow = started(config)
    flow.on_digit("4")
    assert flow.on_digit("3") == TransferOut("95000", 30, "transfer_failed")


def test_after_hours_takes_a_callback_within_five_working_days(config: Config) -> None:
    flow = IvrFlow(config, "home")
    step = flow.start(CLOSED)
    assert step == Callback("general", "after-hours", 5, ("after_hours", "callback_ok"))
    assert flow.path == ["after-hours"]


def test_lunch_break_is_after_hours(config: Config) -> None:
    lunch = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 12:30 in Shanghai, winter
    assert isinstance(IvrFlow(config, "home").start(lunch), Callback)


def test_silent_call_rule_asks_twice_then_apologises(config: Config) -> None:
    flow = started(config)
    step = flow.on_timeout()
    assert step == Listen("silence", 5.0, 300)  # "您好,电话已接通,请讲"
    assert flow.on_silence() == Listen("silence", 5.0, 300)
    assert flow.on_silence() == Hangup("silence_goodbye")


def test_a_caller_who_speaks_but_does_not_press_reaches_a_person(config: Config) -> None:
    flow = started(config)
    flow.on_timeout()
    assert flow.on_voice() == Enqueue("general", 0)


def test_goodbye_node() -> None:
    data = site_data()
    data["hotlines"][0]["menus"]["main"]["options"]["8"] = {"goodbye": True}
    flow = IvrFlow(site(data), "home")
    flow.start(OPEN)
    assert flow.on_digit("8") == Hangup("goodbye")
