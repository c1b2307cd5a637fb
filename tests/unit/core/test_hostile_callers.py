"""A caller ID is whatever the caller's network presents; the core treats it as an opaque label.

Empty, 400 characters, SQL and shell metacharacters, non-ASCII: the call is queued, offered and
recorded with the number exactly as presented, and only a real number can be called back.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.config import Config
from acd.core import events as ev
from acd.core.core import Core, Refused
from acd.core.decisions import CallRecord, Offer
from tests.unit.core.conftest import Driver

HOSTILE = [
    "",
    "8" * 400,
    "'); DROP TABLE calls; --",
    "$(reboot)`id`;|&><*?",
    "张三☎️ +86 (0)10 ‮4321",
    "unknown",
    "anonymous",
]


@pytest.mark.parametrize("caller", HOSTILE)
def test_the_call_is_queued_offered_and_recorded_with_the_number_as_presented(
    config: Config, caller: str
) -> None:
    driver = Driver(config)
    driver.ready("1001")
    out = driver.send(ev.CallEntered("c1", "PJSIP/trunk-1", caller, "home", "general"))
    records = [d for d in out if isinstance(d, CallRecord)]
    offers = [d for d in out if isinstance(d, Offer)]
    assert records and all(r.caller == caller for r in records)
    assert [o.caller for o in offers] == [caller]


@pytest.mark.parametrize("caller", [c for c in HOSTILE if not c.strip("+").isdigit()])
def test_only_a_number_can_be_called_back(config: Config, caller: str) -> None:
    driver = Driver(config)
    driver.send(ev.CallEntered("c1", "PJSIP/trunk-1", caller, "home", "general"))
    with pytest.raises(Refused, match="number is unknown"):
        driver.send(ev.KeepCallback("c1"))
    assert driver.core.calls["c1"].record.caller == caller  # and the call keeps waiting


@settings(max_examples=100, deadline=None)
@given(callers=st.lists(st.text(max_size=500), min_size=1, max_size=30))
def test_any_caller_ids_in_any_number_never_break_the_core(
    config: Config, callers: list[str]
) -> None:
    core = Core(config)
    now = 1_700_000_000.0
    for agent in ("1001", "1002"):
        core.handle(ev.DeviceState(agent, "NOT_INUSE"), now)
        core.handle(ev.AgentLogin(agent), now)
    for n, caller in enumerate(callers):
        out = core.handle(ev.CallEntered(f"c{n}", f"PJSIP/t-{n}", caller, "home", "general"), now)
        assert all(d.caller == caller for d in out if isinstance(d, Offer | CallRecord))
    for n in range(len(callers)):
        core.handle(ev.CallerHungUp(f"c{n}"), now + 1)
    assert core.calls == {}
