"""Who may take which call: the queue's skill rules turned into tiers, and the order of calls.

Kept apart from the event handling so the rules can be read, tested and replaced on their own.

A queue's expansion steps (sorted by `after_seconds`) only ever widen who may take a call:
`min_level` lowers the minimum of the queue's own skills, `also_skills` adds another accepted
skill set, `overflow` moves the call elsewhere and widens nothing. So the eligible agents at
each stage form nested sets, "tiers": tier 0 is the base rule, each step that changes the rule
opens the next tier, and every agent of tier i is also in tier i+1. An agent's *entry tier* in
a queue is the first tier it belongs to; a call at tier t may go to any agent whose entry tier
is at most t. Both are computed once from config, which is what lets the core index agents and
calls by tier instead of matching skills per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from acd.config.queues import ExpansionStep, QueueConfig


class QueueKey(NamedTuple):
    """Sort key of a waiting call: higher priority first, then who came first, then arrival
    order among equal times (a tuple, so comparisons stay cheap in the indexes)."""

    neg_priority: int
    entered_at: float
    seq: int


def skill_score(agent_skills: Mapping[str, int], required: Mapping[str, int]) -> int | None:
    """How well an agent fits a skill set (sum of its levels over the required skills), or
    None when a required skill is missing or below its minimum level."""
    score = 0
    for skill, minimum in required.items():
        level = agent_skills.get(skill, 0)
        if level < minimum:
            return None
        score += level
    return score


@dataclass(frozen=True, slots=True)
class Tier:
    """Who may take a queue's calls from some stage of their wait on.

    `minimums` are the queue's own skills with their (possibly lowered) minimum levels;
    `also` are other skill sets accepted as well. An agent fits if it meets any of them.
    """

    minimums: Mapping[str, int]
    also: tuple[Mapping[str, int], ...] = ()

    def score(self, agent_skills: Mapping[str, int]) -> int | None:
        """The agent's best skill match under this tier, or None when it does not fit."""
        best = skill_score(agent_skills, self.minimums)
        for alternative in self.also:
            score = skill_score(agent_skills, alternative)
            if score is not None and (best is None or score > best):
                best = score
        return best


@dataclass(frozen=True, slots=True)
class QueuePlan:
    """A queue's expansion steps in firing order and the tiers they open.

    `stage_tier[s]` is the tier of a call that has passed the first `s` steps; it has one entry
    more than `steps` (stage 0 is the base rule).
    """

    steps: tuple[ExpansionStep, ...]
    tiers: tuple[Tier, ...]
    stage_tier: tuple[int, ...]

    def entry(self, agent_skills: Mapping[str, int]) -> tuple[int, int] | None:
        """(entry tier, score in it) for an agent, or None if no stage of this queue fits."""
        for index, tier in enumerate(self.tiers):
            score = tier.score(agent_skills)
            if score is not None:
                return index, score
        return None

    def tier(self, stage: int) -> Tier:
        return self.tiers[self.stage_tier[stage]]


def plan_queue(queue: QueueConfig) -> QueuePlan:
    """Turn a queue's config into its steps and tiers; steps accumulate in after_seconds order."""
    steps = tuple(sorted(queue.expansion, key=lambda step: step.after_seconds))
    minimums = dict(queue.skills)
    also: list[dict[str, int]] = []
    tiers = [Tier(dict(minimums), ())]
    stage_tier = [0]
    for step in steps:
        changed = False
        if step.min_level is not None:
            lowered = {skill: min(level, step.min_level) for skill, level in minimums.items()}
            if lowered != minimums:
                minimums, changed = lowered, True
        if step.also_skills is not None and dict(step.also_skills) not in also:
            also.append(dict(step.also_skills))
            changed = True
        if changed:
            tiers.append(Tier(dict(minimums), tuple(dict(a) for a in also)))
        stage_tier.append(len(tiers) - 1)
    return QueuePlan(steps, tuple(tiers), tuple(stage_tier))
