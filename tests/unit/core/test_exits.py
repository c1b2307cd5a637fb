"""When a queue will not keep a caller: waited too long, queue full, nobody to answer."""

from __future__ import annotations

from typing import Any

from acd.config import Config
from acd.config.queues import QueueExit
from acd.core import events as ev
from acd.core.decisions import ExitQueue
from tests.unit.core.conftest import Driver
from tests.unit.site import configured, queue

GOODBYE = QueueExit(goodbye_prompt="goodbye")
TO_REPAIRS = QueueExit(queue="repairs")


def with_general(config: Config, **rules: Any) -> Driver:
    general = queue(skills={"housekeeping": 1}, announce_every_seconds=0, **rules)
    repairs = queue("repairs", skills={"repairs": 1}, announce_every_seconds=0)
    return Driver(configured(config, queues=[general, repairs]))


def assert_ended(driver: Driver, call_id: str, reason: str, prompt: str | None) -> None:
    assert (
        ExitQueue(call_id, f"PJSIP/callers-{call_id}", reason, prompt, "home") in driver.decisions
    )
    record = driver.record(call_id)
    assert (record.disposition, record.hangup_side, record.ended_at) == (
        reason,
        "system",
        driver.now(),
    )
    assert call_id not in driver.core.calls


# -- max wait ----------------------------------------------------------------------------


def test_after_max_wait_the_caller_hears_goodbye(config: Config) -> None:
    driver = with_general(config, max_wait_seconds=120, on_timeout=GOODBYE)
    driver.call("c1")
    driver.wait(119)
    assert driver.exits() == []
    driver.wait(1)
    assert_ended(driver, "c1", "timeout", "goodbye")
    assert driver.record("c1").wait_seconds == 120


def test_max_wait_without_a_rule_ends_without_a_prompt(config: Config) -> None:
    driver = with_general(config, max_wait_seconds=60)
    driver.call("c1")
    driver.wait(60)
    assert_ended(driver, "c1", "timeout", None)


def test_max_wait_may_send_the_caller_to_another_queue(config: Config) -> None:
    driver = with_general(config, max_wait_seconds=60, on_timeout=TO_REPAIRS)
    driver.call("c1", priority=3)
    driver.wait(60)
    assert driver.exits() == []
    assert driver.record("c1").queue == "repairs"
    driver.ready("1003")  # repairs
    assert driver.offered_to("c1") == "1003"


def test_a_caller_whose_agent_rings_is_not_timed_out_until_the_offer_settles(
    config: Config,
) -> None:
    driver = with_general(config, max_wait_seconds=20, on_timeout=GOODBYE)
    driver.call("c1")
    driver.wait(10)
    driver.ready("1001")  # rings 1001 at 10 s
    driver.wait(12)  # past max wait, still ringing
    assert driver.exits() == []
    driver.send(ev.OfferFailed("c1", "1001", "no-answer"))
    assert_ended(driver, "c1", "timeout", "goodbye")


# -- max waiting -------------------------------------------------------------------------


def test_a_caller_beyond_max_waiting_is_turned_away(config: Config) -> None:
    driver = with_general(config, max_waiting=2, on_full=GOODBYE)
    driver.call("c1")
    driver.call("c2")
    driver.call("c3")
    assert_ended(driver, "c3", "full", "goodbye")
    assert driver.core.lines["general"].ordered() == ["c1", "c2"]


def test_a_full_queue_may_send_the_caller_elsewhere(config: Config) -> None:
    driver = with_general(config, max_waiting=1, on_full=TO_REPAIRS)
    driver.call("c1")
    driver.call("c2")
    assert driver.record("c2").queue == "repairs"
    assert driver.core.lines["repairs"].ordered() == ["c2"]


def test_ringing_callers_do_not_fill_the_queue(config: Config) -> None:
    driver = with_general(config, max_waiting=1, on_full=GOODBYE)
    driver.ready("1001")
    driver.call("c1")  # ringing 1001
    driver.call("c2")  # the one waiting
    assert driver.exits() == []
    driver.call("c3")
    assert_ended(driver, "c3", "full", "goodbye")


# -- nobody to answer --------------------------------------------------------------------


def test_no_logged_in_agent_for_the_queue_means_no_waiting(config: Config) -> None:
    driver = with_general(config, join_when_empty=False, on_empty=GOODBYE)
    driver.ready("1003")  # repairs: can never take a general call
    driver.call("c1")
    assert_ended(driver, "c1", "empty", "goodbye")


def test_an_agent_on_a_break_still_counts_as_someone_to_wait_for(config: Config) -> None:
    driver = with_general(config, join_when_empty=False, on_empty=GOODBYE)
    driver.logged_in_paused("1002")
    driver.call("c1")
    assert driver.exits() == []
    assert driver.core.lines["general"].ordered() == ["c1"]


def test_an_empty_queue_may_send_the_caller_elsewhere(config: Config) -> None:
    driver = with_general(config, join_when_empty=False, on_empty=TO_REPAIRS)
    driver.call("c1")
    assert driver.record("c1").queue == "repairs"


def test_when_the_last_agent_logs_out_the_waiting_callers_leave(config: Config) -> None:
    driver = with_general(config, leave_when_empty=True, on_empty=GOODBYE)
    driver.logged_in_paused("1001", "1002", "1003")
    driver.call("c1")
    driver.call("c2")
    driver.send(ev.AgentLogout("1003"))  # repairs: not general's staff
    driver.send(ev.AgentLogout("1001"))
    assert driver.exits() == []
    driver.send(ev.AgentLogout("1002"))  # the last one
    assert [e.call_id for e in driver.exits()] == ["c1", "c2"]
    assert_ended(driver, "c2", "empty", "goodbye")


def test_a_ringing_caller_stays_until_the_offer_settles_when_the_queue_empties(
    config: Config,
) -> None:
    driver = with_general(config, leave_when_empty=True, on_empty=GOODBYE)
    driver.ready("1090")
    driver.send(ev.TakeCalls("1090", True))  # the supervisor is the queue's only staff
    driver.call("c1")  # rings the supervisor
    driver.call("c2")
    driver.send(ev.TakeCalls("1090", False))
    assert [e.call_id for e in driver.exits()] == ["c2"]
    driver.send(ev.OfferFailed("c1", "1090", "busy"))
    assert_ended(driver, "c1", "empty", "goodbye")


def test_a_queue_left_when_empty_takes_no_new_callers_while_empty(config: Config) -> None:
    driver = with_general(config, leave_when_empty=True, on_empty=TO_REPAIRS)
    driver.call("c1")
    assert driver.record("c1").queue == "repairs"
    driver.logged_in_paused("1001")  # staff again: callers wait
    driver.call("c2")
    assert driver.core.lines["general"].ordered() == ["c2"]
