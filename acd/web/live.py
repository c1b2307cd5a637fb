"""Server-Sent Events for the pages: the observer marks the picture stale, one task redraws it.

The engine's consumer calls `LiveFeed.observe` after every core step; it must be quick, so it
only updates the counters and screen pops (projections of the step's decisions) and sets a
flag. A single publisher task turns the core's snapshot into page views at most every
`min_interval` seconds and hands each subscriber the newest one. A slow browser therefore
never holds anything up and never gets a backlog: it skips straight to the latest picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from acd.core import events as ev
from acd.core.decisions import Decision
from acd.web.facade import EngineFacade
from acd.web.views import ScreenPops, TodayCounters, agent_view, wallboard_view

if TYPE_CHECKING:
    from acd.records.store import Records

log = logging.getLogger("acd.web")

#: At most this many redraws a second go out, however busy the centre is.
MIN_INTERVAL = 0.25
#: Open reviews are read from the records this often while a wallboard is open.
REVIEWS_EVERY = 60.0


class Picture(NamedTuple):
    snapshot: dict[str, Any]
    served: dict[str, tuple[str, ...]]
    now: float


class Subscription:
    """One open page: holds only the newest payload it has not sent yet."""

    def __init__(self, agent: str | None) -> None:
        self.agent = agent  # None: a wallboard
        self._latest: str | None = None
        self._ready = asyncio.Event()
        self.closed = False

    def put(self, payload: str) -> None:
        self._latest = payload
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next(self, within: float) -> str | None:
        """The newest payload, or None after `within` s without one (or when closed)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), within)
        self._ready.clear()
        payload, self._latest = self._latest, None
        return payload


class LiveFeed:
    def __init__(self, facade: EngineFacade, min_interval: float = MIN_INTERVAL) -> None:
        self.facade = facade
        self.min_interval = min_interval
        self.today = TodayCounters(facade.config)
        self.pops = ScreenPops()
        self.reviews: list[dict[str, Any]] = []
        self._subscribers: set[Subscription] = set()
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._records: Records | None = None

    # -- the observer (runs inside the engine's consumer) -------------------------------
    def observe(self, event: ev.Event, decisions: list[Decision], now: float) -> None:
        self.today.observe(decisions, now)
        self.pops.observe(decisions, now)
        self._dirty.set()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, records: Records) -> None:
        """Begin publishing; the open reviews are read from `records` (the app's, which
        outlives the feed)."""
        self._records = records
        self._dirty = asyncio.Event()  # of the loop that serves the pages
        self.facade.observers.append(self.observe)
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="acd-web-publish"),
            asyncio.create_task(self._reviews_loop(), name="acd-web-reviews"),
        ]

    def end_streams(self) -> None:
        """Tell every open page's stream to finish, so a shutdown need not wait for them."""
        for sub in list(self._subscribers):
            sub.close()

    async def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.facade.observers.remove(self.observe)
        self.end_streams()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- subscribers --------------------------------------------------------------------
    def subscribe(self, agent: str | None) -> Subscription:
        sub = Subscription(agent)
        self._subscribers.add(sub)
        sub.put(self._payload(sub.agent, self._picture()))
        if agent is None and not any(s.agent is None for s in self._subscribers - {sub}):
            self._refresh_reviews_soon()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def wallboard(self) -> dict[str, Any]:
        return self._view(None, self._picture())

    def agent(self, number: str) -> dict[str, Any]:
        return self._view(number, self._picture())

    # -- publishing ---------------------------------------------------------------------
    def _picture(self) -> Picture:
        """The core's state once for every page drawn from it: its snapshot and, from its
        read API, the queues each agent serves now."""
        core, now = self.facade.core, self.facade.clock.now()
        served = {n: view.queues for n in core.agent_numbers() if (view := core.agent(n))}
        return Picture(core.snapshot(now), served, now)

    def _view(self, agent: str | None, picture: Picture) -> dict[str, Any]:
        snap, served, now = picture
        config = self.facade.config
        if agent is None:
            return wallboard_view(snap, self.today, self.pops, config, self.reviews, now, served)
        return agent_view(snap, agent, self.pops, config, now, served)

    def _payload(self, agent: str | None, picture: Picture) -> str:
        return json.dumps(self._view(agent, picture), ensure_ascii=False, default=str)

    def publish(self) -> None:
        if not self._subscribers:
            return
        picture = self._picture()
        rendered: dict[str | None, str] = {}
        for sub in list(self._subscribers):
            if sub.agent not in rendered:
                rendered[sub.agent] = self._payload(sub.agent, picture)
            sub.put(rendered[sub.agent])

    async def _publish_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                self.publish()
            except Exception:  # a view bug must not end live updates for everyone
                log.exception("could not publish the live view")
            await asyncio.sleep(self.min_interval)

    def _refresh_reviews_soon(self) -> None:
        task = asyncio.create_task(self._refresh_reviews())
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def _refresh_reviews(self) -> None:
        if self._records is None:  # not started
            return
        try:
            now = datetime.fromtimestamp(self.facade.clock.now(), UTC)
            self.reviews = await self._records.reviews(now=now)
        except Exception as exc:  # the records may be down; the wallboard still runs
            log.warning("could not read open reviews: %s", exc)
            return
        self._dirty.set()

    async def _reviews_loop(self) -> None:
        while True:
            await asyncio.sleep(REVIEWS_EVERY)
            if any(sub.agent is None for sub in self._subscribers):
                await self._refresh_reviews()
