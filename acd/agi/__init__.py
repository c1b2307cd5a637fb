"""FastAGI: Asterisk hands a call to us over TCP, we drive it with AGI commands.

`environment` and `protocol` are the sans-I/O parsing (the header Asterisk sends first; replies,
commands and errors), `session` one call's conversation and `server` the asyncio server.
"""

from acd.agi.environment import AgiRequest, HeaderParser, parse_header
from acd.agi.protocol import (
    AgiCommandFailed,
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    AgiTimeout,
    Notice,
    ReplyParser,
    parse_reply,
    quote,
)
from acd.agi.server import FastAgiServer, Handler
from acd.agi.session import AgiSession

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
