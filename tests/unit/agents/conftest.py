"""A small site for the agents' tests: built here, not read from the shipped dialplans/, so an
ops edit there cannot break the rules these tests check."""

from __future__ import annotations

import pytest

from acd.config.models import Config

PROMPTS = ("menu", "hello", "agent_number", "agent_pin", "agent_done", "agent_failed")


@pytest.fixture
def config() -> Config:
    """A small site: two agents and a supervisor on two queues, three pause reasons."""
    menu = {
        "prompt": "menu",
        "options": {"1": {"queue": "repairs"}},
        "fallback": {"queue": "repairs"},
    }
    return Config.model_validate(
        {
            "centre": {"pause_reasons": {"1": "break", "2": "lunch", "5": "coaching"}},
            "skills": {"repairs": "Repairs"},
            "queues": [
                {"name": "repairs", "skills": {"repairs": 1}},
                {"name": "billing", "skills": {"repairs": 1}},
            ],
            "agents": [
                {"number": "1001"},
                {"number": "1002"},
                {"number": "1090", "role": "supervisor"},
            ],
            "prompts": {name: {"zh": name, "en": name} for name in PROMPTS},
            "hotlines": [
                {
                    "name": "home",
                    "extension": "100",
                    "greeting": "hello",
                    "menu": "main",
                    "menus": {"main": menu},
                }
            ],
        }
    )
