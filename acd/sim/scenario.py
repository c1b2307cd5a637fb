"""The config a simulation runs: the real one from `dialplans/`, or one queue built from flags.

The simulator runs the config's own rules (strategy, expansion, max wait, wrap-up, ring
timeout), so a what-if on rules is a change to the config, and one on staffing a change to
the agents; nothing here re-implements a rule.
"""

from __future__ import annotations

from typing import Any

from acd.config.hotlines import GotoQueue, HotlineConfig, MenuConfig
from acd.config.models import AgentConfig, Config
from acd.config.queues import QueueConfig
from acd.core.routing import plan_queue

SKILL = "general"


def one_queue_config(
    agents: int, wrapup_seconds: float = 0.0, ring_timeout: float = 15.0
) -> Config:
    """The simple case: one queue on one skill, `agents` agents who all hold it, and the
    queue's defaults for everything else (longest-idle, no expansion, no max wait)."""
    queue = QueueConfig(
        name="general", skills={SKILL: 1}, wrapup_seconds=wrapup_seconds, ring_timeout=ring_timeout
    )
    menu = MenuConfig(
        prompt="menu",
        options={"1": GotoQueue(queue="general")},
        fallback=GotoQueue(queue="general"),
    )
    hotline = HotlineConfig(
        name="sim", extension="100", greeting="hello", menu="main", menus={"main": menu}
    )
    base = Config(skills={SKILL: "simulated"}, queues=[queue], hotlines=[hotline])
    return with_agents(base, "general", agents)


def with_agents(config: Config, queue: str, count: int) -> Config:
    """`config` with its agents replaced by `count` agents holding `queue`'s skills at the
    levels it asks for: staffing as a number, for what-ifs on an existing queue."""
    skills = dict(config.queue(queue).skills)
    width = max(4, len(str(count)))
    agents = [AgentConfig(number=f"{n + 1:0{width}d}", skills=skills) for n in range(count)]
    return config.model_copy(update={"agents": agents})


def with_queue(config: Config, queue: str, **changes: Any) -> Config:
    """`config` with some settings of one queue changed (a what-if on its rules)."""
    queues = [q.model_copy(update=changes) if q.name == queue else q for q in config.queues]
    return config.model_copy(update={"queues": queues})


def staff(config: Config, queue: str) -> list[str]:
    """The agents who take `queue`'s calls at some stage of a wait: role "agent" (supervisors
    take queue calls only when put on the queues) with skills that fit one of its tiers."""
    plan = plan_queue(config.queue(queue))
    return [
        a.number for a in config.agents if a.role == "agent" and plan.entry(a.skills) is not None
    ]
