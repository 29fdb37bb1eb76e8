"""Events from a worker to the control plane: past tense, JSON-serialisable.

The control plane's projection folds them into the DocumentStore; `Progress` doubles as the
worker's heartbeat.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ainimal_zookeeper.errors import InvalidInput


@dataclass(frozen=True)
class Event:
    """Base of every event; `kind` names the concrete class on the wire."""

    instance_id: str
    time: float = field(default_factory=time.time)
    kind: ClassVar[str] = "Event"

    def to_dict(self) -> dict[str, Any]:
        """The wire form: the fields plus `kind` (shallow: field values are JSON values already,
        and a deep copy of a telemetry frame's arrays would cost more than sending it).

        An event's instance dict holds exactly its fields (no event sets anything else: the
        wire round-trip tests check every kind); read whole, it costs a sampled step a few
        µs less than going through `dataclasses.fields`."""
        return {"kind": self.kind, **vars(self)}


@dataclass(frozen=True)
class Progress(Event):
    """Where the worker is now; sent a few times a second (the heartbeat)."""

    status: str = "RUNNING"
    mode: str = "INFER"
    step: int = 0
    episode: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] | None = None
    pace: float | None = None  # the pace in force (steps a second), None: as fast as it goes
    # Who the instance waits for, e.g. "lockstep takeover by alice"; None when not waiting.
    waiting_for: str | None = None
    kind: ClassVar[str] = "Progress"


@dataclass(frozen=True)
class WorkerStarted(Progress):
    """The AInimal and its env are built; `architecture` describes the model."""

    architecture: dict[str, Any] | None = None
    pid: int | None = None
    kind: ClassVar[str] = "WorkerStarted"


@dataclass(frozen=True)
class CommandApplied(Event):
    """The worker applied a command (or had already: commands are idempotent)."""

    command_id: str = ""
    command_kind: str = ""
    status: str = ""
    mode: str = ""
    #: Where the worker was when it applied the command (so a paused step is exact).
    step: int | None = None
    episode: int | None = None
    kind: ClassVar[str] = "CommandApplied"


@dataclass(frozen=True)
class CommandRejected(Event):
    """The worker could not apply a command; the instance goes on as before."""

    command_id: str = ""
    command_kind: str = ""
    error: str = ""
    kind: ClassVar[str] = "CommandRejected"


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """A checkpoint's bytes are in the BlobStore under `blob_key` (content-addressed)."""

    command_id: str = ""
    checkpoint_id: str = ""
    tag: str = ""
    blob_key: str = ""
    parent_id: str | None = None
    step: int = 0
    episode: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    size_bytes: int = 0
    keep: int = 0  # a scheduled checkpoint: keep the newest `keep` scheduled ones (0: not scheduled)
    kind: ClassVar[str] = "CheckpointSaved"


@dataclass(frozen=True)
class CheckpointRestored(Event):
    """A checkpoint was loaded into the running AInimal."""

    command_id: str = ""
    checkpoint_id: str = ""
    step: int = 0
    episode: int = 0
    kind: ClassVar[str] = "CheckpointRestored"


@dataclass(frozen=True)
class InstanceFailed(Event):
    """The AInimal, its env or its worker failed; `error` says what happened."""

    error: str = ""
    kind: ClassVar[str] = "InstanceFailed"


@dataclass(frozen=True)
class InstanceTerminated(Event):
    """The worker stopped on request, or by itself with a `reason` (a budget was spent)."""

    step: int = 0
    episode: int = 0
    reason: str | None = None
    kind: ClassVar[str] = "InstanceTerminated"


@dataclass(frozen=True)
class TelemetryFrame(Event):
    """What the AInimal saw, did and computed at `step`, for the streams someone watches.

    Not stored: it goes to live subscribers only (recordings keep every step instead).
    `request_id` answers a `SampleTelemetry`; `streams` maps stream names to JSON values.
    """

    step: int = 0
    episode: int = 0
    streams: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    kind: ClassVar[str] = "TelemetryFrame"


@dataclass(frozen=True)
class OverrideChanged(Event):
    """An override took effect (`active`) or ended; who set it, for the instance's events."""

    override_id: str = ""
    target: str = ""
    mode: str = ""
    active: bool = True
    set_by: str | None = None
    takeover: str | None = None
    step: int = 0
    # Why an override ended without a person clearing it ("takeover lease expired", "emergency stop").
    reason: str | None = None
    kind: ClassVar[str] = "OverrideChanged"


@dataclass(frozen=True)
class RecordingChunkWritten(Event):
    """Chunk `chunk_index` of a recording is in the BlobStore under `blob_key`."""

    recording_id: str = ""
    chunk_index: int = 0
    blob_key: str = ""
    rows: int = 0
    size_bytes: int = 0
    first_step: int = 0
    last_step: int = 0
    kind: ClassVar[str] = "RecordingChunkWritten"


@dataclass(frozen=True)
class RecordingStopped(Event):
    """A recording ended: "complete", or "failed" with `error` (chunks written so far stay)."""

    recording_id: str = ""
    status: str = "complete"
    error: str | None = None
    chunks: int = 0
    rows: int = 0
    kind: ClassVar[str] = "RecordingStopped"


@dataclass(frozen=True)
class ReplayProgress(Event):
    """How far a replay got; `status` is "running", "complete" or "failed"."""

    replay_id: str = ""
    status: str = "running"
    steps: int = 0
    error: str | None = None
    kind: ClassVar[str] = "ReplayProgress"


@dataclass(frozen=True)
class MetricPoints(Event):
    """Metric points the worker collected since its last flush (about once a second).

    `series`: one entry per metric name, ``{"name", "steps", "times", "values"}`` (columns of
    equal length; times in Unix seconds; a value is null for NaN/inf). `seq` counts the
    worker's flushes from 1; `final` marks its last one (the projection compacts then).
    """

    seq: int = 0
    series: list[dict[str, Any]] = field(default_factory=list)
    final: bool = False
    kind: ClassVar[str] = "MetricPoints"


@dataclass(frozen=True)
class LogLines(Event):
    """Output lines the worker captured since its last flush (a few times a second).

    `lines`: ``{"time", "stream", "text"}`` each, stream one of stdout, stderr, log, traceback.
    `seq` counts the worker's flushes from 1; `final` marks its last one (log streams end there).
    """

    seq: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)
    final: bool = False
    kind: ClassVar[str] = "LogLines"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        TelemetryFrame,
        OverrideChanged,
        RecordingChunkWritten,
        RecordingStopped,
        ReplayProgress,
        Progress,
        WorkerStarted,
        CommandApplied,
        CommandRejected,
        CheckpointSaved,
        CheckpointRestored,
        InstanceFailed,
        InstanceTerminated,
        MetricPoints,
        LogLines,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its wire form.

    Raises:
        InvalidInput: unknown kind or fields.
    """
    payload = dict(data)
    kind = payload.pop("kind", None)
    cls = EVENT_TYPES.get(str(kind))
    if cls is None:
        raise InvalidInput(f"unknown event kind {kind!r}; expected one of {sorted(EVENT_TYPES)}")
    try:
        return cls(**payload)
    except TypeError as exc:
        raise InvalidInput(f"malformed {kind} event: {exc}") from exc
