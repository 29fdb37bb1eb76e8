"""The statuses of recordings, replays and commands (an instance's are `instance.InstanceStatus`).

Their values are what the store holds and the API shows (lower case, as they always were).
"""

from __future__ import annotations

from enum import StrEnum


class RecordingStatus(StrEnum):
    """Where a recording is: being written, complete, or failed (cut short or refused)."""

    RECORDING = "recording"
    COMPLETE = "complete"
    FAILED = "failed"


class ReplayStatus(StrEnum):
    """Where a replay is: feeding its recording to the instance, complete, or failed."""

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


class CommandStatus(StrEnum):
    """What became of a command sent to a worker: still on its way, applied, or rejected."""

    SENT = "sent"
    APPLIED = "applied"
    REJECTED = "rejected"
