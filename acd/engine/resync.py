"""What the engine may have missed, rebuilt from Asterisk itself after every AMI login.

The callers wait in Asterisk, not here (DESIGN.md: state that survives): after a restart or
a dropped link the phones' states and the holding callers, in their order, are read back from
`PJSIPShowEndpoints`, `CoreShowChannels` and each caller's channel variables, and handed to
the core as ordinary events followed by one `Resync` naming every live channel, so the core
drops what is gone. The list entries are read with the translator's mappings, so a caller
rebuilt here is the same event its `AcdEnqueued` would have been.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from acd.ami import AmiDisconnected, AmiError, AmiTimeout, FieldValue, Message
from acd.clock import Clock
from acd.core import events as ev
from acd.engine.translator import call_entered, endpoint_state

log = logging.getLogger(__name__)

RESYNC_ATTEMPTS = 5
HOLD_VARIABLES = ("ACD_QUEUE", "ACD_PRIORITY", "ACD_HOTLINE", "ACD_ENTERED")


class AmiLister(Protocol):
    async def action(self, name: str, /, **fields: FieldValue) -> Message: ...

    async def action_list(
        self, name: str, /, **fields: FieldValue
    ) -> tuple[Message, list[Message]]: ...


class Resync:
    """Runs the resync (`run`, the AMI client's `on_login`) and the blind spell between a
    disconnect and the next login (`blind`, its `on_disconnect`)."""

    def __init__(
        self,
        ami: Callable[[], AmiLister],
        clock: Clock,
        put: Callable[[ev.Event], None],
        knows_call: Callable[[str], bool],
        agents: Callable[[], Iterable[str]],
    ) -> None:
        self._ami = ami
        self._clock = clock
        self._put = put
        self._knows_call = knows_call
        self._agents = agents
        # Calls that entered by a live event while a resync runs: not in its channel list,
        # which was taken before, yet alive (see `once`). None when no resync runs.
        self.entered_during: set[str] | None = None

    def saw_entry(self, call_id: str) -> None:
        """A live `CallEntered` was queued (the engine tells every one)."""
        if self.entered_during is not None:
            self.entered_during.add(call_id)

    def blind(self) -> None:
        """AMI is gone: no phone can be rung, and what we knew of them may be stale. Until the
        resync after the next login tells otherwise, every phone counts as unknown (never
        rung), so the core does not offer calls it cannot place, again and again."""
        for agent in self._agents():
            self._put(ev.DeviceState(agent, "UNKNOWN"))

    async def run(self) -> None:
        """After every login: rebuild what we may have missed.

        An Asterisk that has just started may refuse the lists for a moment (modules still
        loading): tried again a few times; a dropped link resyncs at its next login anyway.
        """
        for attempt in range(1, RESYNC_ATTEMPTS + 1):
            try:
                await self.once()
                return
            except AmiDisconnected:
                return
            except (AmiError, AmiTimeout) as exc:
                log.warning("resync attempt %d failed: %s", attempt, exc)
                self.entered_during = None
                await asyncio.sleep(1.0)
            finally:
                self.entered_during = None
        log.error("could not resync with Asterisk; waiting callers may be unknown until relogin")

    async def once(self) -> None:
        ami = self._ami()
        known_agents = set(self._agents())
        _, endpoints = await ami.action_list("PJSIPShowEndpoints")
        for msg in endpoints:
            agent, state = endpoint_state(msg)
            if agent in known_agents:
                self._put(ev.DeviceState(agent, state))
        # A call entering after Asterisk listed its channels reaches the queue before the
        # Resync does; counted as live, or the Resync would take it for gone and drop it.
        self.entered_during = set()  # back to None by `run`, however this ends
        _, channels = await ami.action_list("CoreShowChannels")
        live: set[str] = set()
        holding: list[tuple[float, ev.CallEntered]] = []
        for chan in channels:
            uid = chan.get("Uniqueid") or ""
            live.add(uid)
            if chan.get("Context") != "acd-hold" or self._knows_call(uid):
                continue
            if chan.get("BridgeId"):
                # Pulled into a bridge by its agent: talking, not waiting (the channel still
                # names acd-hold, where Bridge() found it).
                continue
            values = {}
            for var in HOLD_VARIABLES:
                with contextlib.suppress(AmiError):
                    reply = await ami.action(
                        "Getvar", Channel=chan.get("Channel") or "", Variable=var
                    )
                    values[var] = reply.get("Value") or ""
            entered = _float(values.get("ACD_ENTERED")) or self._clock.now()
            listed = Message(
                [
                    ("Uniqueid", uid),
                    ("Channel", chan.get("Channel") or ""),
                    ("CallerIDNum", chan.get("CallerIDNum") or ""),
                    *[("ChanVariable", f"{k}={v}") for k, v in values.items()],
                ]
            )
            call = call_entered(listed, entered_at=entered)
            if call is not None:
                holding.append((entered, call))
        for _, call in sorted(holding, key=lambda item: item[0]):
            self._put(call)
        live |= self.entered_during or set()
        self._put(ev.Resync(frozenset(live)))
        log.info("resynced: %d channels, %d callers holding", len(channels), len(holding))


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
