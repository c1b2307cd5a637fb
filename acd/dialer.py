"""The callback dialer's adapters; the decisions (who, when, how many) are the core's.

Thin pieces around the core:
- the FastAGI route a holding caller reaches by pressing the callbacks key (virtual hold): it
  asks the core, which keeps the caller's place or refuses (callbacks suspended at peak);
- the poller that hands the core scheduled callbacks (after hours, revisits, retries) from the
  records when they are due and their hotline is open, oldest request first;
- `add_callback`, the CLI's way to store one.

The dialplan's UserEvents about a callback dial are AMI: the engine's translator reads them
(`acd.engine.translator.callback_event`), with every other AMI event.

Order of a callback dial, and why: the agent is rung first and the customer dialled from the
agent's answered leg (`acd-callback-connect`). The customer never answers to silence or a
recorded "please hold" - the person who called us is greeted by a person - and an agent who
does not answer costs nothing but a retry with the next agent, not a customer's patience.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, or_, select

from acd.agi import AgiSession
from acd.clock import Clock
from acd.config.models import Config
from acd.core import events as ev
from acd.privacy import mask_number
from acd.records.models import CallbackRow, make_engine
from ivr.schedule import closes_at, due_by, is_open

log = logging.getLogger("acd.dialer")

# Submits an event to the core and returns None, or why it was refused.
Submit = Callable[[ev.Event], Awaitable[str | None]]

#: Scheduled callbacks handed to the core per poll: enough to keep agents busy until the next.
POLL_BATCH = 50


def make_keep_handler(submit: Submit) -> Callable[[AgiSession], Awaitable[None]]:
    """`AGI(.../callback)` from acd-hold: sets ACD_CALLBACK_KEPT=1 when the place is kept."""

    async def handle(session: AgiSession) -> None:
        request = session.request
        error = await submit(ev.KeepCallback(request.uniqueid))
        if error:
            log.info("callback for %s refused: %s", mask_number(request.callerid), error)
            return
        log.info("caller %s will be called back in turn", mask_number(request.callerid))
        await session.set_variable("ACD_CALLBACK_KEPT", "1")

    return handle


def due_callbacks(rows: list[Any], config: Config, now: datetime) -> list[ev.CallbackDue]:
    """The pending callbacks that may be dialled now: due, and their hotline open.

    `not_after` is when the hotline closes, so a callback handed over late in the day is not
    dialled after hours while it waits for an agent.
    """
    out = []
    for row in rows:
        try:
            hotline = config.hotline(row.hotline)
        except KeyError:
            hotline = config.hotlines[0]
        schedule = hotline.schedule
        if schedule is None:
            not_after = float("inf")
        else:
            if not is_open(schedule, now):
                continue
            closing = closes_at(schedule, now)
            not_after = closing.timestamp() if closing is not None else float("inf")
        out.append(
            ev.CallbackDue(
                callback_id=row.id,
                number=row.caller,
                hotline=hotline.name,
                queue=row.queue,
                kind=row.kind,
                requested_at=_aware(row.requested_at).timestamp(),
                attempt=row.attempts,
                not_after=not_after,
            )
        )
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class CallbackPoller:
    """Every `callbacks.poll_seconds`, hands the core what `due_callbacks` allows.

    The core drops what it already holds and what it has already dialled at that attempt, so
    a poll that races the records' update after a dial cannot dial a customer twice.
    """

    def __init__(
        self,
        get_config: Callable[[], Config],
        database_url: str,
        put: Callable[[ev.Event], None],
        clock: Clock,
    ) -> None:
        self._get_config = get_config
        self._url = database_url
        self._put = put
        self._clock = clock

    async def run(self) -> None:
        engine = make_engine(self._url)
        try:
            while True:
                try:
                    await self.poll(engine)
                except Exception as exc:  # the records may be down: try again next time
                    log.warning("callback poll failed: %s", exc)
                await asyncio.sleep(self._get_config().callbacks.poll_seconds)
        finally:
            await engine.dispose()

    async def poll(self, engine: Any) -> int:
        config = self._get_config()
        now = datetime.fromtimestamp(self._clock.now(), tz=UTC)
        query = (
            select(CallbackRow)
            .where(
                CallbackRow.status == "pending",
                or_(CallbackRow.not_before.is_(None), CallbackRow.not_before <= now),
            )
            .order_by(CallbackRow.requested_at, CallbackRow.id)
            .limit(POLL_BATCH)
        )
        async with engine.connect() as conn:
            rows = list((await conn.execute(query)).all())
        due = due_callbacks(rows, config, now)
        for event in due:
            self._put(event)
        return len(due)


async def add_callback(
    url: str,
    config: Config,
    *,
    number: str,
    queue: str,
    hotline: str,
    kind: str,
    within_working_days: int,
    now: datetime,
    call_id: str = "",
) -> dict[str, Any]:
    """Store a callback for the dialer, due by the close of business `within_working_days`
    after `now` on the hotline's calendar (the seeds: revisits "within 1 working day")."""
    config.queue(queue)  # KeyError: unknown queue
    config.hotline(hotline)  # KeyError: unknown hotline
    due = due_by(config.calendar_for(hotline), now, within_working_days)
    row = {
        "call_id": call_id,
        "caller": number,
        "hotline": hotline,
        "queue": queue,
        "kind": kind,
        "requested_at": now,
        "due_at": due,
        "status": "pending",
        "attempts": 0,
        "updated_at": now,
    }
    engine = make_engine(url, immediate_writes=True)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(insert(CallbackRow).values(**row))
            row["id"] = result.inserted_primary_key[0] if result.inserted_primary_key else None
    finally:
        await engine.dispose()
    return row
