"""Recording of live calls: which calls to record, where, the agent's pauses, and the check
of the file once the call is over.

Plain bookkeeping fed by the engine (no AMI here): the effector asks `plan()` when it offers a
call, the AMI translator reports the answer and the agent's pause and resume keys, the effector
the final call record, and the engine carries out what comes back (MixMonitorMute, a
RecordingMade row). Which keys pause a recording is the translator's to know.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from acd.config.models import Config
from acd.core.decisions import CallRecord
from acd.records.items import RecordingMade
from recordings.naming import local_path, recording_relpath
from recordings.verify import inspect, status


@dataclass
class LiveRecording:
    call_id: str
    agent: str
    caller: str
    queue: str
    path: str  # as Asterisk writes it
    leg: str = ""  # the agent leg's uniqueid
    channel: str = ""
    started_at: float | None = None
    pauses: list[list[float]] = field(default_factory=list)  # [start, end] offsets in s

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] < 0


def chosen(config: Config, queue: str, call_id: str) -> bool:
    """The queue's policy; a percentage samples by call id, so a retry decides the same."""
    policy = config.queue(queue).recording
    if policy.policy == "always":
        return True
    if policy.policy == "never":
        return False
    bucket = int(hashlib.sha256(call_id.encode()).hexdigest()[:8], 16) % 10_000
    return bucket < policy.percent * 100


class Recorder:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.planned: dict[str, LiveRecording] = {}  # agent leg uniqueid -> plan
        self.live: dict[str, LiveRecording] = {}  # call id -> recording of the answered leg

    def plan(
        self, leg: str, call_id: str, agent: str, caller: str, queue: str, now: float
    ) -> str | None:
        """The file Asterisk should record this offer into, or None if it is not recorded."""
        if queue not in {q.name for q in self.config.queues} or not chosen(
            self.config, queue, call_id
        ):
            return None
        started = datetime.fromtimestamp(now, tz=UTC)
        path = f"{self.config.asterisk.spool_dir}/{recording_relpath(started, call_id, agent)}"
        self.planned[leg] = LiveRecording(call_id, agent, caller, queue, path, leg=leg)
        return path

    def dropped(self, leg: str) -> None:
        self.planned.pop(leg, None)

    def answered(self, leg: str, channel: str, now: float) -> None:
        recording = self.planned.pop(leg, None)
        if recording is not None:
            recording.channel = channel
            recording.started_at = now
            self.live[recording.call_id] = recording

    def pause(self, leg: str, now: float) -> bool:
        """The agent asked to pause the recording on `leg`: True when that pauses one (there
        is a recording and it is running), so the channel is to be muted."""
        recording = self._recording_on(leg)
        if recording is None or recording.started_at is None or recording.paused:
            return False
        recording.pauses.append([round(now - recording.started_at, 2), -1.0])
        return True

    def resume(self, leg: str, now: float) -> bool:
        """The agent asked to resume: True when a paused recording on `leg` runs again."""
        recording = self._recording_on(leg)
        if recording is None or recording.started_at is None or not recording.paused:
            return False
        recording.pauses[-1][1] = round(now - recording.started_at, 2)
        return True

    def _recording_on(self, leg: str) -> LiveRecording | None:
        return next((r for r in self.live.values() if r.leg == leg), None)

    def finished(self, record: CallRecord) -> LiveRecording | None:
        """The call is over: the recording to check, if there was one."""
        recording = self.live.pop(record.call_id, None)
        if recording is not None and recording.paused and record.talk_seconds is not None:
            recording.pauses[-1][1] = round(record.talk_seconds, 2)
        return recording

    def check(self, recording: LiveRecording, talk_seconds: float) -> RecordingMade:
        """Look at the file on disk: it must exist and last as long as the talk."""
        asterisk = self.config.asterisk
        local = local_path(Path(asterisk.spool_dir), Path(asterisk.spool_dir_local), recording.path)
        found = inspect(local)
        return RecordingMade(
            call_id=recording.call_id,
            agent=recording.agent,
            caller=recording.caller,
            queue=recording.queue,
            path=recording.path,
            started_at=recording.started_at or 0.0,
            talk_seconds=talk_seconds,
            seconds=found.seconds,
            size=found.size,
            format=found.format,
            sha256=found.sha256,
            status=status(talk_seconds, found),
            pauses=tuple((start, end) for start, end in recording.pauses),
        )
