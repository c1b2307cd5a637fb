"""AMI messages to core events: the one place that knows what Asterisk's events mean.

Pure: no socket, no task, no wait. `Translator.feed(msg)` answers with the core events the
message stands for (and, for an agent's recording keys, the mute to carry out), so it can be
tested with recorded messages alone. It owns the one piece of state that translation needs:
the agent legs the engine originated, because an AMI event about a leg (its channel name, its
answer, its hang-up, the agent's keys) only means something once it is told apart from the
caller's channel. The effector registers a leg before it sends the Originate and asks here
which legs belong to a call.

Resync uses the pure mappings of list replies (`call_entered`, `endpoint_state`) from here too,
so an event and a list entry about the same thing cannot be read two ways.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from acd.ami import Message
from acd.clock import Clock
from acd.core import events as ev
from acd.privacy import clean_number
from recordings.live import Recorder

log = logging.getLogger(__name__)

#: OriginateResponse's Reason (Asterisk's AST_CONTROL_* values) -> why the offer failed.
ORIGINATE_REASONS = {"3": "no-answer", "5": "busy", "8": "unavailable", "1": "rejected"}
#: PJSIPShowEndpoints spells device states for people; the core uses Asterisk's state names.
ENDPOINT_STATES = {
    "Not in use": "NOT_INUSE",
    "In use": "INUSE",
    "Busy": "BUSY",
    "Invalid": "INVALID",
    "Unavailable": "UNAVAILABLE",
    "Ringing": "RINGING",
    "Ring+Inuse": "RINGINUSE",
    "On Hold": "ONHOLD",
    "Unknown": "UNKNOWN",
}
#: Dial()'s DIALSTATUS for a customer who did not take the callback -> the attempt outcome.
DIAL_OUTCOMES = {
    "NOANSWER": "no-answer",
    "BUSY": "busy",
    "CONGESTION": "failed",
    "CHANUNAVAIL": "failed",
    "CANCEL": "agent-hung-up",
    "DONTCALL": "refused",
    "TORTURE": "refused",
    "INVALIDARGS": "failed",
}
# The agent presses * then 7 to pause recording (a caller reads out card details), * then 8
# to resume.
PAUSE_KEYS = ("*", "7")
RESUME_KEYS = ("*", "8")


@dataclass
class Leg:
    """An agent leg the engine originated, so AMI events about it can be told apart."""

    call_id: str
    agent: str
    endpoint: str
    channel: str = ""
    answered: bool = False
    hung_up: bool = False
    last_key: str = ""  # the agent's previous DTMF digit, for the two-key recording codes


@dataclass(frozen=True, slots=True)
class MuteRecording:
    """Not a core event: the agent paused (`mute`) or resumed the recording of `call_id`,
    whose agent leg is `channel`. The effector carries it out in the call's order."""

    call_id: str
    channel: str
    mute: bool


#: What one AMI message becomes.
Input = ev.Event | MuteRecording


class Translator:
    """AMI events in, core events out; the agent legs in between.

    `knows_call` and `knows_agent` ask the core whether an id is one of its calls or agents,
    so a hang-up or a device state of a channel nobody routes is not queued at all.
    """

    def __init__(
        self,
        recorder: Recorder,
        clock: Clock,
        knows_call: Callable[[str], bool],
        knows_agent: Callable[[str], bool],
    ) -> None:
        self.recorder = recorder
        self.clock = clock
        self.knows_call = knows_call
        self.knows_agent = knows_agent
        self.legs: dict[str, Leg] = {}  # agent leg uniqueid -> leg

    # -- the legs, as the effector places and ends them ----------------------------------
    def expect(self, leg_id: str, call_id: str, agent: str, endpoint: str) -> None:
        """A leg is about to be originated: events about `leg_id` are about this offer."""
        self.legs[leg_id] = Leg(call_id, agent, endpoint)

    def forget(self, leg_id: str) -> None:
        """The leg will produce nothing more worth hearing (its originate failed, or it was
        hung up on purpose)."""
        self.legs.pop(leg_id, None)
        self.recorder.dropped(leg_id)

    def legs_of(self, call_id: str, agent: str) -> list[tuple[str, Leg]]:
        return [
            (i, leg) for i, leg in self.legs.items() if (leg.call_id, leg.agent) == (call_id, agent)
        ]

    def talking_channel(self, agent: str) -> str | None:
        """The channel of the agent's answered leg, if the agent is on a call we placed."""
        for leg in self.legs.values():
            if leg.agent == agent and leg.answered and leg.channel:
                return leg.channel
        return None

    # -- AMI events ---------------------------------------------------------------------
    def feed(self, msg: Message) -> list[Input]:
        name = msg.get("Event")
        callback = callback_event(msg)
        if callback is not None:
            return [callback]
        if name == "UserEvent" and msg.get("UserEvent") == "AcdEnqueued":
            entered = call_entered(msg)
            return [] if entered is None else [entered]
        if name == "Newchannel":
            leg = self.legs.get(msg.get("Uniqueid") or "")
            if leg is not None:
                leg.channel = msg.get("Channel") or ""
            return []
        if name == "OriginateResponse":
            return self._originate_response(msg)
        if name == "Hangup":
            return self._hangup(msg.get("Uniqueid") or "")
        if name == "DeviceStateChange":
            device = msg.get("Device") or ""
            agent = device.removeprefix("PJSIP/")
            if device.startswith("PJSIP/") and self.knows_agent(agent):
                return [ev.DeviceState(agent, msg.get("State") or "UNKNOWN")]
            return []
        if name == "DTMFEnd" and msg.get("Direction") == "Received":
            return self._key(msg.get("Uniqueid") or "", msg.get("Digit") or "")
        return []

    def _hangup(self, uid: str) -> list[Input]:
        leg = self.legs.get(uid)
        if leg is None:
            return [ev.CallerHungUp(uid)] if self.knows_call(uid) else []
        if not leg.answered:
            # Ringing ended: the OriginateResponse that follows says why.
            leg.hung_up = True
            return []
        del self.legs[uid]
        return [ev.AgentLegHungUp(leg.call_id, leg.agent)]

    def _originate_response(self, msg: Message) -> list[Input]:
        uid = msg.get("Uniqueid") or ""
        leg = self.legs.get(uid)
        if leg is None:
            # A failed originate may name no channel; at most one offer per agent is
            # outstanding, so the endpoint identifies the leg.
            requested = (msg.get("Channel") or "").split("-")[0]
            for candidate_id, candidate in self.legs.items():
                if f"PJSIP/{candidate.endpoint}" == requested:
                    uid, leg = candidate_id, candidate
                    break
        if leg is None:
            return []
        if msg.get("Response") == "Success":
            leg.answered = True
            self.recorder.answered(uid, leg.channel, self.clock.now())
            out: list[Input] = [ev.OfferAnswered(leg.call_id, leg.agent, leg.channel)]
            if leg.hung_up:  # answered and gone before we heard of the answer
                del self.legs[uid]
                out.append(ev.AgentLegHungUp(leg.call_id, leg.agent))
            return out
        self.forget(uid)
        reason = ORIGINATE_REASONS.get(msg.get("Reason") or "", "unavailable")
        log.info(
            "agent %s did not take %s: %s (reason %s)",
            leg.agent,
            leg.call_id,
            reason,
            msg.get("Reason"),
        )
        return [ev.OfferFailed(leg.call_id, leg.agent, reason)]

    def _key(self, uid: str, digit: str) -> list[Input]:
        """An agent's DTMF on a talking leg: *7 pauses the recording, *8 resumes it."""
        leg = self.legs.get(uid)
        if leg is None or not leg.answered:
            return []
        pair = (leg.last_key, digit)
        leg.last_key = digit
        now = self.clock.now()
        if pair == PAUSE_KEYS and self.recorder.pause(uid, now):
            return [MuteRecording(leg.call_id, leg.channel, True)]
        if pair == RESUME_KEYS and self.recorder.resume(uid, now):
            return [MuteRecording(leg.call_id, leg.channel, False)]
        return []


def callback_event(msg: Message) -> ev.Event | None:
    """The dialplan's word on a callback dial, as a core event (None: not about one)."""
    if msg.get("Event") != "UserEvent":
        return None
    name = msg.get("UserEvent")
    call_id = msg.get("CallId") or ""
    if not call_id or name not in ("AcdCallbackAnswered", "AcdCallbackResult"):
        return None
    if name == "AcdCallbackAnswered":
        return ev.CallbackAnswered(call_id)
    status = (msg.get("Status") or "").upper()
    if status == "ANSWER":
        # Dial() returned after the customer answered: the customer hung up.
        return ev.CallerHungUp(call_id)
    return ev.CallbackFailed(call_id, DIAL_OUTCOMES.get(status, "failed"))


def call_entered(msg: Message, entered_at: float | None = None) -> ev.CallEntered | None:
    """A caller reaching the holding context (`AcdEnqueued`, or a channel a resync lists
    with its variables), or None when the message lacks what a call needs."""
    variables = chan_variables(msg)
    uid = msg.get("Uniqueid")
    channel = msg.get("Channel")
    if not uid or not channel or not variables.get("ACD_QUEUE"):
        # Not the whole event: it carries the caller's number, which logs only show masked.
        log.warning(
            "AcdEnqueued without channel or queue: Uniqueid %r, Channel %r, variables %s",
            uid,
            channel,
            variables,
        )
        return None
    try:
        priority = int(variables.get("ACD_PRIORITY") or 0)
    except ValueError:
        priority = 0
    return ev.CallEntered(
        call_id=uid,
        channel=channel,
        # A CR in it would make every Originate carrying it refused, offer after offer.
        caller=clean_number(msg.get("CallerIDNum") or ""),
        hotline=variables.get("ACD_HOTLINE", ""),
        queue=variables["ACD_QUEUE"],
        priority=priority,
        entered_at=entered_at,
    )


def endpoint_state(msg: Message) -> tuple[str, str]:
    """A PJSIPShowEndpoints entry: (endpoint name, the device state the core knows)."""
    state = ENDPOINT_STATES.get(msg.get("DeviceState") or "", "UNKNOWN")
    return msg.get("ObjectName") or "", state


def chan_variables(msg: Message) -> dict[str, str]:
    """The `ChanVariable: NAME=value` headers manager.conf's channelvars adds to events."""
    out = {}
    for item in msg.getall("ChanVariable"):
        name, _, value = item.partition("=")
        out[name.strip()] = value
    return out
