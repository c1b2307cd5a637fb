"""Our own Asterisk Manager Interface adapter.

Replaces panoramisk, whose failure modes (actions that never resolve after a disconnect, pings
that never time out, a callback error killing the transport) are exactly the ones a contact
centre cannot afford. `codec` is the sans-I/O wire format, `client` the self-healing connection
(`inflight` routes frames to actions, `reconnect` paces and reports reconnects, `errors` says
why something failed).
"""

from acd.ami.client import AmiClient, FieldValue
from acd.ami.codec import (
    DEFAULT_MAX_FRAME_BYTES,
    AmiException,
    AmiParser,
    AmiProtocolError,
    Message,
    encode_action,
)
from acd.ami.errors import AmiDisconnected, AmiError, AmiTimeout

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "AmiClient",
    "AmiDisconnected",
    "AmiError",
    "AmiException",
    "AmiParser",
    "AmiProtocolError",
    "AmiTimeout",
    "FieldValue",
    "Message",
    "encode_action",
]
