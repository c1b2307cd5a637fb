"""The pages' live streams as Server-Sent Events, each a subscription to the `LiveFeed`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from acd.web.live import LiveFeed

#: An open stream ends after this long and the browser reconnects: the session cookie is
#: checked again, so a stream never outlives the login it was opened with by much.
STREAM_SECONDS = 600.0
KEEPALIVE_SECONDS = 15.0


def stream(feed: LiveFeed, agent: str | None) -> StreamingResponse:
    """The wallboard's stream (`agent` None) or one agent's, newest picture first."""
    event_name = "wallboard" if agent is None else "agent"

    async def events() -> AsyncIterator[str]:
        sub = feed.subscribe(agent)
        loop_time = asyncio.get_running_loop().time
        deadline = loop_time() + STREAM_SECONDS
        try:
            yield "retry: 3000\n\n"
            while not sub.closed and loop_time() < deadline:
                payload = await sub.next(KEEPALIVE_SECONDS)
                if payload is None:
                    yield ": keep-alive\n\n"
                else:
                    yield f"event: {event_name}\ndata: {payload}\n\n"
        finally:
            feed.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )
