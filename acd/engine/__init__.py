"""The engine: the composition root around the pure core (`root`), and the pieces it joins.

`translator` turns AMI messages into core events, `effects` carries the core's decisions out
on Asterisk in order per call, `resync` rebuilds from Asterisk after a login, `sink` sends
records and steps to the writer and the projections, `control` answers the control socket.
`from acd.engine import Engine` is all a caller needs.
"""

from acd.engine.root import Command, Engine

__all__ = ["Command", "Engine"]
