"""`acd report`: service level, volumes, handle times and occupancy from the records.

`query` loads rows into plain dataclasses, `compute` aggregates them without I/O (the
definitions of every figure live in its docstring), `render` and `charts` present the result,
`cli` wires it to the `acd` command.
"""
