"""Append the timeline's lines to an Asterisk-format `queue_log` file, off the event loop.

The consumer task must never wait for a disk, so `write` only buffers; a task hands the
buffer to a thread in batches. The file is opened for each batch and closed again, so
logrotate may move it away at any time (the next batch creates a new one), and it is created
owner-only: it holds callers' numbers. A disk that refuses writes costs lines, never the
engine: past `max_buffered` the oldest are dropped and counted in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path

#: Mode of a new queue_log file: callers' numbers are for the engine's user only.
FILE_MODE = 0o600


class QueueLogWriter:
    def __init__(
        self,
        path: Path,
        *,
        flush_interval: float = 0.5,
        max_buffered: int = 100_000,
        logger: logging.Logger | None = None,
    ) -> None:
        if flush_interval <= 0 or max_buffered < 1:
            raise ValueError("need flush_interval > 0 and max_buffered >= 1")
        self.path = path
        self._interval = flush_interval
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._buffer: deque[str] = deque(maxlen=max_buffered)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.dropped = 0

    @classmethod
    def from_setting(cls, setting: str | None, state_dir: Path) -> QueueLogWriter | None:
        """The writer for `engine.queue_log` (relative to the state dir), or None when off."""
        if setting is None:
            return None
        return cls(state_dir / setting, logger=logging.getLogger("acd.queue_log"))

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def write(self, lines: Iterable[str]) -> None:
        """Queue lines for the file; never blocks."""
        for line in lines:
            if len(self._buffer) == self._buffer.maxlen:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 10_000 == 0:
                    self._log.error(
                        "queue_log %s is behind: %d lines dropped", self.path, self.dropped
                    )
            self._buffer.append(line)
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="acd-queue-log")

    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - public API
        """Write what is buffered (for at most `timeout` seconds), then stop."""
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            await self._flush()
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            self._log.error("queue_log closed with %d lines unwritten", len(self._buffer))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._closing:
                # Let a burst gather into one batch: one open and write for many lines.
                await asyncio.sleep(self._interval)
            written = await self._flush()
            if self._closing and not self._buffer:
                return
            if not written:
                await asyncio.sleep(self._interval)  # the disk refused: try again shortly
                self._wake.set()

    async def _flush(self) -> bool:
        """Write the buffer out; False if the file refused it (the lines are kept)."""
        if not self._buffer:
            return True
        batch, self._buffer = self._buffer, deque(maxlen=self._buffer.maxlen)
        data = "".join(f"{line}\n" for line in batch).encode("utf-8")
        try:
            await asyncio.to_thread(_append, self.path, data)
        except OSError as error:
            self._log.warning("queue_log %s not written, will retry: %s", self.path, error)
            self._put_back(batch)
            return False
        except asyncio.CancelledError:
            # Closed past its deadline while the write was in flight: the lines count as
            # unwritten (the thread may still finish; a line twice beats a line lost).
            self._put_back(batch)
            raise
        return True

    def _put_back(self, batch: deque[str]) -> None:
        """The batch back in front of what came meanwhile; past the bound the oldest go."""
        newer, self._buffer = self._buffer, batch
        self.write(newer)


def _append(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
