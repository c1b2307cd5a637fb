"""What the wallboard and the agent page count and show, from the core's own decisions."""

from __future__ import annotations

from acd.config import Config
from acd.core import events as ev
from acd.core.decisions import CallRecord
from acd.privacy import mask_number
from acd.web.views import ScreenPops, TodayCounters, agent_view, wallboard_view
from tests.unit.core.conftest import Driver

# 2023-11-14 22:13:20 UTC is 06:13:20 on the 15th in Asia/Shanghai (the shipped zone).
T0 = 1_700_000_000.0


def record(call_id: str, **kw: object) -> CallRecord:
    base: dict[str, object] = {
        "call_id": call_id,
        "caller": "13800138000",
        "hotline": "home",
        "queue": "general",
        "entered_at": T0,
    }
    return CallRecord(**{**base, **kw})  # type: ignore[arg-type]


def test_service_level_is_answered_within_the_threshold_over_every_outcome(
    config: Config,
) -> None:
    today = TodayCounters(config)  # general: 15 s, the seeds' three rings
    today.observe([record("a", answered_at=T0 + 10)], T0 + 10)
    today.observe([record("b", answered_at=T0 + 40)], T0 + 40)
    today.observe([record("c", ended_at=T0 + 20, disposition="abandoned")], T0 + 20)
    today.observe([record("d", ended_at=T0 + 90, disposition="timeout")], T0 + 90)
    counts = today.get("general", T0 + 100)
    assert (counts.answered, counts.abandoned, counts.lost) == (2, 1, 1)
    assert counts.service_level() == 0.25


def test_a_call_is_counted_once_however_often_its_record_is_sent(config: Config) -> None:
    today = TodayCounters(config)
    answered = record("a", answered_at=T0 + 5, agent="1001", disposition="answered")
    today.observe([answered], T0 + 5)
    today.observe([record("a", answered_at=T0 + 5, ended_at=T0 + 60)], T0 + 60)
    counts = today.get("general", T0 + 60)
    assert (counts.answered, counts.abandoned, counts.in_service_level) == (1, 0, 1)


def test_the_counts_start_again_at_local_midnight(config: Config) -> None:
    today = TodayCounters(config)
    today.observe([record("a", answered_at=T0 + 5)], T0 + 5)
    midnight_shanghai = T0 + (24 * 3600 - (6 * 3600 + 13 * 60 + 20))
    assert today.get("general", midnight_shanghai - 1).answered == 1
    assert today.get("general", midnight_shanghai).answered == 0
    assert today.get("general", midnight_shanghai).service_level() is None


def test_the_screen_pop_follows_the_offer_and_the_answer(driver: Driver) -> None:
    pops = ScreenPops()
    driver.ready("1001")
    driver.wait(30)
    event = ev.CallEntered("c1", "PJSIP/t-1", "13900139000", "home", "general")
    pops.observe(event, driver.send(event), driver.now(), driver.core.calls)
    pop = pops.current["1001"]
    assert (pop.caller, pop.queue, pop.status) == ("13900139000", "general", "ringing")
    assert pops.caller_of("1001", "c1") == "13900139000"
    answer = ev.OfferAnswered("c1", "1001")
    driver.wait(4)
    pops.observe(answer, driver.send(answer), driver.now(), driver.core.calls)
    assert pops.current["1001"].view()["status"] == "talking"
    assert pops.current["1001"].view()["waited_seconds"] == 4.0


def test_an_offer_that_rang_out_leaves_no_pop_and_no_note_rights(driver: Driver) -> None:
    pops = ScreenPops()
    driver.ready("1001")
    event = ev.CallEntered("c1", "PJSIP/t-1", "13900139000", "home", "general")
    pops.observe(event, driver.send(event), driver.now(), driver.core.calls)
    failed = ev.OfferFailed("c1", "1001", "no-answer")
    pops.observe(failed, driver.send(failed), driver.now(), driver.core.calls)
    assert "1001" not in pops.current
    assert pops.caller_of("1001", "c1") is None


def test_the_wallboard_shows_waiting_callers_and_masks_numbers(
    driver: Driver, config: Config
) -> None:
    pops = ScreenPops()
    driver.ready("1001")
    for call_id in ("c1", "c2"):
        event = ev.CallEntered(call_id, f"PJSIP/t-{call_id}", "13900139000", "home", "general")
        pops.observe(event, driver.send(event), driver.now(), driver.core.calls)
        driver.wait(6)  # c1 rings 1001 (ring timeout 15 s), c2 waits
    snapshot = driver.core.snapshot(driver.now())
    fired = {"rule": "peak-8", "scope": "*", "actions": ["suspend-callbacks"], "since": T0}
    snapshot["rules"] = {"active": [fired], "pending": [], "effects": {"breaks_suspended": True}}
    reviews = [{"id": 1, "overdue": True, "agent": "1002"}, {"id": 2, "overdue": False}]
    view = wallboard_view(snapshot, TodayCounters(config), pops, config, reviews, driver.now())
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
    pops.observe(event, driver.send(event), driver.now(), driver.core.calls)
    view = agent_view(driver.core.snapshot(driver.now()), "1001", pops, config, driver.now())
    assert view["pop"]["caller"] == "13900139000"
    assert view["agent"]["state"] == "reserved"
    assert "lunch" in view["pause_reasons"]
