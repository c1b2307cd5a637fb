"""What the wallboard and the agent page count and show, from the core's own decisions."""

from __future__ import annotations

from typing import Any

from acd.config import Config
from acd.core import events as ev
from acd.core.facts import CallConnected, CallEnded, CallLeft
from acd.core.vocab import CallKind, Disposition, HangupSide, LeaveReason
from acd.privacy import mask_number
from acd.web.views import ScreenPops, TodayCounters, agent_view, wallboard_view
from tests.unit.core.conftest import Driver


def served(driver: Driver) -> dict[str, tuple[str, ...]]:
    """The core's read API on which queues each agent serves, as the live feed asks it."""
    views = (driver.core.agent(n) for n in driver.core.agent_numbers())
    return {view.number: view.queues for view in views if view is not None}


# 2023-11-14 22:13:20 UTC is 06:13:20 on the 15th in Asia/Shanghai (the shipped zone).
T0 = 1_700_000_000.0


def connected(call_id: str, at: float, queue: str = "general") -> CallConnected:
    return CallConnected(call_id, "1001", queue, "PJSIP/1001-1", T0, T0, 3.0, CallKind.INBOUND, at)


def left(call_id: str, reason: LeaveReason, at: float) -> CallLeft:
    return CallLeft(
        call_id, "general", reason, 1, 1, T0, T0, HangupSide.CALLER, CallKind.INBOUND, at
    )


def ended(call_id: str, at: float, answered_at: float | None, **kw: object) -> CallEnded:
    base: dict[str, object] = {
        "call_id": call_id,
        "queue": "general",
        "agent": "1001",
        "side": HangupSide.CALLER,
        "disposition": Disposition.ANSWERED,
        "answered_at": answered_at,
        "queued_at": T0,
        "origposition": 1,
        "kind": CallKind.INBOUND,
        "at": at,
    }
    return CallEnded(**{**base, **kw})  # type: ignore[arg-type]


def test_service_level_is_answered_within_the_threshold_over_every_outcome(
    config: Config,
) -> None:
    today = TodayCounters(config)  # general: 15 s, the seeds' three rings
    today.observe([connected("a", T0 + 10)], T0 + 10)
    today.observe([connected("b", T0 + 40)], T0 + 40)
    today.observe([left("c", LeaveReason.ABANDONED, T0 + 20)], T0 + 20)
    today.observe([left("d", LeaveReason.TIMEOUT, T0 + 90)], T0 + 90)
    counts = today.get("general", T0 + 100)
    assert (counts.answered, counts.abandoned, counts.lost) == (2, 1, 1)
    assert counts.service_level() == 0.25


def test_a_call_is_counted_once_in_the_queue_it_was_answered_in(config: Config) -> None:
    today = TodayCounters(config)
    today.observe([connected("a", T0 + 5, queue="repairs")], T0 + 5)
    today.observe([ended("a", T0 + 60, answered_at=T0 + 5, queue="repairs")], T0 + 60)
    repairs, general = today.get("repairs", T0 + 60), today.get("general", T0 + 60)
    assert (repairs.answered, repairs.abandoned, repairs.in_service_level) == (1, 0, 1)
    assert general.offered == 0


def test_a_callback_nobody_answered_is_lost_and_a_kept_place_is_no_outcome(
    config: Config,
) -> None:
    today = TodayCounters(config)
    today.observe([left("k", LeaveReason.VIRTUAL_HOLD, T0 + 5)], T0 + 5)
    failed = ended("k", T0 + 900, None, disposition=Disposition.CALLBACK_FAILED)
    today.observe([failed], T0 + 900)
    counts = today.get("general", T0 + 900)
    assert (counts.answered, counts.abandoned, counts.lost) == (0, 0, 1)


def test_the_counts_start_again_at_local_midnight(config: Config) -> None:
    today = TodayCounters(config)
    today.observe([connected("a", T0 + 5)], T0 + 5)
    midnight_shanghai = T0 + (24 * 3600 - (6 * 3600 + 13 * 60 + 20))
    assert today.get("general", midnight_shanghai - 1).answered == 1
    assert today.get("general", midnight_shanghai).answered == 0
    assert today.get("general", midnight_shanghai).service_level() is None


def test_the_screen_pop_follows_the_offer_and_the_answer(driver: Driver) -> None:
    pops = ScreenPops()
    driver.ready("1001")
    driver.wait(30)
    event = ev.CallEntered("c1", "PJSIP/t-1", "13900139000", "home", "general")
    pops.observe(driver.send(event), driver.now())
    pop = pops.current["1001"]
    assert (pop.caller, pop.queue, pop.status) == ("13900139000", "general", "ringing")
    assert pops.caller_of("1001", "c1") == "13900139000"
    answer = ev.OfferAnswered("c1", "1001")
    driver.wait(4)
    pops.observe(driver.send(answer), driver.now())
    assert pops.current["1001"].view()["status"] == "talking"
    assert pops.current["1001"].view()["waited_seconds"] == 4.0


def test_an_offer_that_rang_out_leaves_no_pop_and_no_note_rights(driver: Driver) -> None:
    pops = ScreenPops()
    driver.ready("1001")
    event = ev.CallEntered("c1", "PJSIP/t-1", "13900139000", "home", "general")
    pops.observe(driver.send(event), driver.now())
    failed = ev.OfferFailed("c1", "1001", "no-answer")
    pops.observe(driver.send(failed), driver.now())
    assert "1001" not in pops.current
    assert pops.caller_of("1001", "c1") is None


def test_the_wallboard_shows_waiting_callers_and_masks_numbers(
    driver: Driver, config: Config
) -> None:
    pops = ScreenPops()
    driver.ready("1001")
    for call_id in ("c1", "c2"):
        event = ev.CallEntered(call_id, f"PJSIP/t-{call_id}", "13900139000", "home", "general")
        pops.observe(driver.send(event), driver.now())
        driver.wait(6)  # c1 rings 1001 (ring timeout 15 s), c2 waits
    snapshot = driver.core.snapshot(driver.now())
    fired = {"rule": "peak-8", "scope": "*", "actions": ["suspend-callbacks"], "since": T0}
    snapshot["rules"] = {"active": [fired], "pending": [], "effects": {"breaks_suspended": True}}
    reviews: list[dict[str, Any]] = [
        {"id": 1, "overdue": True, "agent": "1002"},
        {"id": 2, "overdue": False},
    ]
    view = wallboard_view(
        snapshot, TodayCounters(config), pops, config, reviews, driver.now(), served(driver)
    )
    general = next(q for q in view["queues"] if q["name"] == "general")
    assert (general["waiting"], general["longest_wait"], general["ringing"]) == (1, 6.0, 1)
    agent = next(a for a in view["agents"] if a["number"] == "1001")
    assert agent["caller"] == mask_number("13900139000") != "13900139000"
    assert view["rules"] == [fired]
    assert view["rule_effects"] == {"breaks_suspended": True}
    assert [r["id"] for r in view["reviews"]] == [1]


def test_the_agent_page_shows_the_full_number_to_its_agent(driver: Driver, config: Config) -> None:
    pops = ScreenPops()
    driver.ready("1001")
    event = ev.CallEntered("c1", "PJSIP/t-1", "13900139000", "home", "general")
    pops.observe(driver.send(event), driver.now())
    snapshot = driver.core.snapshot(driver.now())
    view = agent_view(snapshot, "1001", pops, config, driver.now(), served(driver))
    assert view["pop"]["caller"] == "13900139000"
    assert view["agent"]["state"] == "reserved"
    assert "lunch" in view["pause_reasons"]


def test_a_requeued_callers_pop_shows_the_whole_wait(driver: Driver) -> None:
    """The waited time comes with the Offer (the call's entry), not from the core's live
    call: the second agent offered a call that rang out elsewhere sees all of it."""
    pops = ScreenPops()
    driver.ready("1001")
    event = ev.CallEntered("c1", "PJSIP/t-1", "13900139000", "home", "general")
    pops.observe(driver.send(event), driver.now())
    driver.wait(15)
    failed = ev.OfferFailed("c1", "1001", "no-answer")  # 1001 is paused for it
    pops.observe(driver.send(failed), driver.now())
    for step in (ev.DeviceState("1002", "NOT_INUSE"), ev.AgentLogin("1002")):
        pops.observe(driver.send(step), driver.now())
    assert "1001" not in pops.current
    assert pops.current["1002"].view()["waited_seconds"] == 15.0


def test_the_wallboard_names_the_queues_the_core_says_an_agent_serves(
    driver: Driver, config: Config
) -> None:
    driver.ready("1001", "1090")
    driver.send(ev.SetQueues("1001", ("repairs",)))

    def queues(number: str) -> list[str]:
        snapshot = driver.core.snapshot(driver.now())
        view = wallboard_view(
            snapshot, TodayCounters(config), ScreenPops(), config, [], driver.now(), served(driver)
        )
        return next(a["queues"] for a in view["agents"] if a["number"] == number)

    assert queues("1001") == ["repairs"]  # moved, whatever the skills say
    assert queues("1090") == []  # a supervisor serves no queue until put on them
    driver.send(ev.TakeCalls("1090", True))
    assert queues("1090") != [] and set(queues("1090")) <= {q.name for q in config.queues}
