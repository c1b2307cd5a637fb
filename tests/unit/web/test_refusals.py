"""What the core refuses reaches the page as the engine answers it: a 409 with the reason,
not a server error, so the pages behave in tests as they do at peak time in production."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from acd.config import Config, load_config
from acd.config.rules import RuleConfig
from acd.core import events as ev
from acd.web.facade import CoreFacade
from agents.state import AgentState
from tests.unit.web.conftest import SHIPPED, sign_in


@pytest.fixture(scope="module")
def config() -> Config:
    """The shipped site with a peak rule that holds as soon as one caller waits."""
    peak = RuleConfig.model_validate(
        {
            "name": "peak-1",
            "when": [{"metric": "waiting", "op": ">=", "value": 1}],
            "actions": [{"kind": "suspend-breaks"}],
        }
    )
    return load_config(SHIPPED).model_copy(update={"rules": [peak]})


def at_peak(facade: CoreFacade) -> None:
    """Everyone in training (not a break), one caller waiting: breaks are suspended."""
    for agent in ("1001", "1002", "1003", "1004"):
        facade.feed(ev.AgentPause(agent, "training"))  # nobody takes the caller
    facade.feed(ev.CallEntered("c1", "PJSIP/callers-1", "13800138000", "home", "general"))
    facade.feed(ev.Tick())


def test_a_break_at_peak_time_is_refused_with_the_reason(
    client: TestClient, facade: CoreFacade
) -> None:
    at_peak(facade)
    csrf = sign_in(client, "fang")
    headers = {"X-CSRF-Token": csrf}
    refused = client.post("/api/me/pause", headers=headers, json={"reason": "break"})
    assert refused.status_code == 409
    assert "breaks are suspended" in refused.json()["error"]
    still = facade.core.agent("1001")
    assert still is not None and (still.state, still.reason) == (AgentState.NOT_READY, "training")


async def test_the_facade_answers_a_refusal_instead_of_raising(facade: CoreFacade) -> None:
    at_peak(facade)
    error = await facade.command(ev.AgentPause("1002", "lunch"))
    assert error is not None and "breaks are suspended" in error
