"""FastAGI: Asterisk hands a call to us over TCP, we drive it with AGI commands.

`protocol` is the sans-I/O parsing, `server` the asyncio server and per-call session.
"""

from acd.agi.protocol import (
    AgiCommandFailed,
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    AgiRequest,
    AgiTimeout,
    HeaderParser,
    Notice,
    ReplyParser,
    parse_header,
    parse_reply,
    quote,
)
from acd.agi.server import AgiSession, FastAgiServer, Handler

__all__ = [
    "AgiCommandFailed",
    "AgiError",
    "AgiHangup",
    "AgiProtocolError",
    "AgiReply",
    "AgiRequest",
    "AgiSession",
    "AgiTimeout",
    "FastAgiServer",
    "Handler",
    "HeaderParser",
    "Notice",
    "ReplyParser",
    "parse_header",
    "parse_reply",
    "quote",
]
