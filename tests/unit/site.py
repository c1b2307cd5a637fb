"""A small contact centre built in code for the unit tests of rules that are not about the YAML.

Why: a test of the IVR, the dialer, the simulator or a CLI that read the shipped `dialplans/`
broke whenever ops changed a menu key, a queue's wrap-up or a lunch break, though the rule it
checked had not changed. This site is owned by the tests, so every fact a test relies on is
written here where it can be read. It is shaped like the seeds' home-services line (Shanghai
hours with a lunch break, after-hours callbacks within five working days, the silent-call
rule), so the tests still read like the seeds. Tests that are *about* the shipped files (they
load, they encode the seeds' rules) keep reading `dialplans/` (tests/unit/config).

`site_data()` is the plain data a `dialplans/` directory would hold, to edit with ordinary dict
operations; `site()` validates it; `write_site()` stores it as a directory the CLI can read.

The routing centre, `centre_config()`, is the one the core's tests (and the live, records and
web tests that replay the core) are written against: the same three queues, four agents and a
supervisor, but with the skills routing rules need (`moving`, and a supervisor who can take
jobs) and a one-key hotline, since routing never looks at menus or hours. It is built from
config objects with `queue()`, `agent()` and `configured()`, which tests use to write the
queues and agents a rule needs next to the rule. Both centres live here, so there is one place
a test centre is built and read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml

from acd.config import Config, load_config
from acd.config.hotlines import GotoQueue, HotlineConfig, MenuConfig
from acd.config.models import AgentConfig
from acd.config.queues import QueueConfig
from acd.config.rules import RuleConfig

ZONE = "Asia/Shanghai"

# The home line's menus, by key. Main: 1 general, 2 repairs, 3 jobs, 0 the operator (general at
# priority 5), 4 the services menu, 9 a callback tomorrow, * repeat; no key: general.
# Services: 1 jobs at priority 1, 2 a message, 3 a transfer to 95000, # back, * repeat.
MAIN_MENU: dict[str, Any] = {
    "prompt": "main_menu",
    "invalid_prompt": "invalid",
    "timeout_seconds": 5,
    "retries": 2,
    "options": {
        "1": {"queue": "general"},
        "2": {"queue": "repairs"},
        "3": {"queue": "jobs"},
        "0": {"queue": "general", "priority": 5},
        "4": {"menu": "services"},
        "9": {"callback": {"queue": "general", "within_working_days": 1, "prompt": "callback_ok"}},
        "*": {"repeat": True},
    },
    "fallback": {"queue": "general"},
}
SERVICES_MENU: dict[str, Any] = {
    "prompt": "services_menu",
    "invalid_prompt": "invalid",
    "options": {
        "1": {"queue": "jobs", "priority": 1},
        "2": {
            "message": {
                "prompt": "leave_message",
                "max_seconds": 120,
                "thanks_prompt": "message_thanks",
            }
        },
        "3": {"transfer": {"number": "95000", "failed_prompt": "transfer_failed"}},
        "#": {"back": True},
        "*": {"repeat": True},
    },
    "fallback": {"queue": "general"},
}
# Open every day 09:00-12:00 and after lunch until 18:00 (summer, from 1 May) or 17:30 (winter,
# from 1 October, lunch until 13:00); closed on 1-3 October 2026 and 1 January 2027.
SCHEDULE: dict[str, Any] = {
    "timezone": ZONE,
    "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "seasons": [
        {
            "name": "summer",
            "from_date": "05-01",
            "open": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}],
        },
        {
            "name": "winter",
            "from_date": "10-01",
            "open": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:30"}],
        },
    ],
    "holidays": ["2026-10-01", "2026-10-02", "2026-10-03", "2027-01-01"],
}
HOME: dict[str, Any] = {
    "name": "home",
    "extension": "100",
    "language": "zh",
    "greeting": "greeting",
    "goodbye_prompt": "goodbye",
    "menu": "main",
    "menus": {"main": MAIN_MENU, "services": SERVICES_MENU},
    "schedule": SCHEDULE,
    # Outside hours: a callback within five working days.
    "after_hours": {
        "action": "callback",
        "prompt": "after_hours",
        "callback": {"queue": "general", "within_working_days": 5, "prompt": "callback_ok"},
    },
    # Asked twice, 5 s each, then an apology.
    "silence": {
        "prompt": "silence",
        "wait_seconds": 5,
        "times": 2,
        "goodbye_prompt": "silence_goodbye",
    },
    "survey": {"prompt": "survey", "scale": 5, "dissatisfied_at_or_below": 2},
}
# Three queues on one skill each, 10 s of wrap-up; general offers virtual hold.
QUEUES: list[dict[str, Any]] = [
    {"name": "general", "skills": {"housekeeping": 1}, "wrapup_seconds": 10, "virtual_hold": True},
    {"name": "repairs", "skills": {"repairs": 1}, "wrapup_seconds": 10},
    {"name": "jobs", "skills": {"jobs": 1}, "wrapup_seconds": 10},
]
# General is served by 1001, 1002 and 1004 (1090 is a supervisor), repairs by 1002 and 1003.
AGENTS: list[dict[str, Any]] = [
    {"number": "1001", "skills": {"housekeeping": 5}},
    {"number": "1002", "skills": {"housekeeping": 3, "repairs": 4}},
    {"number": "1003", "skills": {"repairs": 5, "jobs": 2}},
    {"number": "1004", "skills": {"jobs": 5, "housekeeping": 2}},
    {"number": "1090", "skills": {"housekeeping": 5, "repairs": 5}, "role": "supervisor"},
]


def site_data() -> dict[str, Any]:
    """The site as the plain data of a `dialplans/` directory: a fresh copy to edit."""
    data: dict[str, Any] = {
        "centre": {"name": "test centre", "timezone": ZONE},
        "skills": {"housekeeping": "housekeeping", "repairs": "repairs", "jobs": "jobs"},
        "queues": QUEUES,
        "agents": AGENTS,
        "hotlines": [HOME],
    }
    data = yaml.safe_load(yaml.safe_dump(data))  # a deep copy: callers may edit it
    data["prompts"] = {name: {"zh": name, "en": name} for name in sorted(set(_prompts(data)))}
    return data


def site(data: dict[str, Any] | None = None) -> Config:
    """The site (or `data`, an edited `site_data()`) as a validated config."""
    return Config.model_validate(site_data() if data is None else data)


def write_site(directory: Path, data: dict[str, Any] | None = None) -> Path:
    """The site (or `data`) as a `dialplans/`-style directory, checked by the real loader."""
    directory.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(site_data() if data is None else data, allow_unicode=True)
    (directory / "site.yaml").write_text(text, encoding="utf-8")
    load_config(directory)  # what the CLI will do: a mistake here fails at the fixture
    return directory


# -- the routing centre ------------------------------------------------------------------

HOTLINE = "home"


def desk_site(prompts: tuple[str, ...], *, language: str = "zh", **centre: Any) -> Config:
    """The smallest site where agents and a supervisor act: one hotline (in `language`) in
    front of two queues on one skill, agents 1001 and 1002 and supervisor 1090, the given
    prompts (each prompt's text is its name and language) and `centre` settings. For the
    tests of agents' commands and of the engine's pieces, which need people, not routing."""
    menu = {
        "prompt": "menu",
        "options": {"1": {"queue": "repairs"}},
        "fallback": {"queue": "repairs"},
    }
    return Config.model_validate(
        {
            "centre": centre,
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
            "prompts": {name: {"zh": f"{name} zh", "en": f"{name} en"} for name in prompts},
            "hotlines": [
                {
                    "name": "home",
                    "extension": "100",
                    "language": language,
                    "greeting": "hello",
                    "menu": "main",
                    "menus": {"main": menu},
                }
            ],
        }
    )


def centre_config(rules: list[RuleConfig] | None = None) -> Config:
    """The centre the core's tests are written against: three queues (the defaults give the
    seeds' 15 s ring and 10 s wrap-up; general offers virtual hold), four agents and a
    supervisor with the skills below, one hotline, and no queue-depth rules unless given."""
    return Config(
        skills={name: name for name in ("housekeeping", "moving", "repairs", "jobs")},
        queues=[
            queue("general", {"housekeeping": 1}, virtual_hold=True),
            queue("repairs", {"repairs": 1}),
            queue("jobs", {"jobs": 1}),
        ],
        agents=[
            agent("1001", housekeeping=5, moving=3),
            agent("1002", housekeeping=3, repairs=4),
            agent("1003", repairs=5, moving=4, jobs=2),
            agent("1004", jobs=5, housekeeping=2),
            agent("1090", "supervisor", housekeeping=5, repairs=5, jobs=5),
        ],
        hotlines=[
            HotlineConfig(
                name=HOTLINE,
                extension="100",
                greeting="greeting",
                menu="main",
                menus={
                    "main": MenuConfig(
                        prompt="main_menu",
                        options={"1": GotoQueue(queue="general")},
                        fallback=GotoQueue(queue="general"),
                    )
                },
            )
        ],
        rules=rules or [],
    )


def configured(
    config: Config,
    queues: list[QueueConfig] | None = None,
    agents: list[AgentConfig] | None = None,
) -> Config:
    """`config` with other queues and/or agents, for rules the test centre lacks."""
    update: dict[str, Any] = {}
    if queues is not None:
        update["queues"] = queues
    if agents is not None:
        update["agents"] = agents
    return config.model_copy(update=update)


def queue(name: str = "general", skills: dict[str, int] | None = None, **kw: Any) -> QueueConfig:
    """A queue for a test's own centre; one skill, housekeeping, unless given."""
    return QueueConfig(name=name, skills=skills or {"housekeeping": 1}, **kw)


def agent(
    number: str, role: Literal["agent", "supervisor"] = "agent", **skills: int
) -> AgentConfig:
    """An agent (or a supervisor) with the given skill levels, for a test's own centre."""
    return AgentConfig(number=number, skills=skills, role=role)


def _prompts(node: object, key: str = "") -> Iterator[str]:
    """Every prompt a hotline names, so the site defines each one (the loader checks that)."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _prompts(value, str(name))
    elif isinstance(node, list):
        for item in node:
            yield from _prompts(item, key)
    elif isinstance(node, str) and (key.endswith("prompt") or key == "greeting"):
        yield node
