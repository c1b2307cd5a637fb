"""The IVR menu rules: type-ahead, retries, fallback, never a dead end."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config import Config, load_config
from ivr.flow import Collect, Enqueue, IvrFlow

SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED)


def test_greeting_then_menu_then_queue(config: Config) -> None:
    flow = IvrFlow(config, "home")
    step = flow.start()
    assert isinstance(step, Collect) and step.prompts == ("greeting", "main_menu")
    assert flow.on_digit("2") == Enqueue("repairs", 0)


def test_operator_key_queues_with_priority(config: Config) -> None:
    flow = IvrFlow(config, "home")
    flow.start()
    assert flow.on_digit("0") == Enqueue("general", 5)


def test_invalid_then_timeout_then_fallback(config: Config) -> None:
    flow = IvrFlow(config, "home")
    flow.start()
    step = flow.on_digit("9")
    assert isinstance(step, Collect) and step.prompts == ("invalid", "main_menu")
    step = flow.on_timeout()
    assert isinstance(step, Collect) and step.prompts == ("main_menu",)
    assert flow.on_timeout() == Enqueue("general", 0)  # 2 retries, then the fallback
    assert flow.path == ["main", "9", "timeout", "timeout"]
