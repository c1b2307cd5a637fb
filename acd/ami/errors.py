"""Why an AMI action or session failed, as exception types a caller can tell apart.

`AmiError`, `AmiDisconnected` and `AmiTimeout` reach callers of `AmiClient.action`; the
distinction matters because retrying helps after a disconnect or a timeout and never after a
refusal. `LoginRejected` and `Unreachable` only end a session inside the client, which logs them
in words an operator can act on and reconnects.
"""

from __future__ import annotations

from acd.ami.codec import AmiException, Message


class AmiError(AmiException):
    """Asterisk answered `Response: Error`: the request reached it and was refused.

    Distinct from `AmiDisconnected`/`AmiTimeout` because retrying will not help here, while it
    may there.
    """

    def __init__(self, response: Message, action: str = "") -> None:
        self.response = response
        self.action = action
        self.reason = response.get("Message", "")
        prefix = f"AMI {action} failed" if action else "AMI action failed"
        super().__init__(f"{prefix}: {self.reason or 'Response: Error'}")


class AmiDisconnected(AmiException):
    """The AMI link is down (or went down) before the answer arrived.

    Whether Asterisk executed the action is unknown; the engine learns the truth from the resync
    it runs in `on_login` after the reconnect.
    """


class AmiTimeout(AmiException, TimeoutError):
    """No answer within the deadline. Also a `TimeoutError`, so generic timeout handling works."""


class LoginRejected(AmiException):
    """Bad credentials or ACL. Kept apart so the log line can say so plainly."""


class Unreachable(AmiException):
    """The TCP connection could not be opened."""
