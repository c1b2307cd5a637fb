"""A small site for the agents' tests: built here, not read from the shipped dialplans/, so an
ops edit there cannot break the rules these tests check."""

from __future__ import annotations

import pytest

from acd.config.models import Config
from tests.unit.site import desk_site

PROMPTS = ("menu", "hello", "agent_number", "agent_pin", "agent_done", "agent_failed")


@pytest.fixture
def config() -> Config:
    """A small site: two agents and a supervisor on two queues, three pause reasons."""
    return desk_site(PROMPTS, pause_reasons={"1": "break", "2": "lunch", "5": "coaching"})
