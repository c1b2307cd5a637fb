"""Staffing: how many agents a queue needs for a service level (Erlang C and Erlang A).

The maths is pure and lives in `erlang`; `load` derives the offered traffic from the call
records, and `cli` adds `acd staffing`.
"""

from acd.staffing.erlang import (
    ErlangResult,
    StaffingResult,
    agents_needed,
    erlang_a,
    erlang_c,
    offered_load,
    scheduled_agents,
)

__all__ = [
    "ErlangResult",
    "StaffingResult",
    "agents_needed",
    "erlang_a",
    "erlang_c",
    "offered_load",
    "scheduled_agents",
]
