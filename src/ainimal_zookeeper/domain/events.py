"""Events from a worker to the control plane: past tense, JSON-serialisable.

The control plane's projection folds them into the DocumentStore; `Progress` doubles as the
worker's heartbeat.
"""

from __future__ import annotations

import dataclasses
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
        """The wire form: the fields plus `kind`."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Progress(Event):
    """Where the worker is now; sent a few times a second (the heartbeat)."""

    status: str = "RUNNING"
    mode: str = "INFER"
    step: int = 0
    episode: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] | None = None
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
    """The worker stopped on request."""

    step: int = 0
    episode: int = 0
    kind: ClassVar[str] = "InstanceTerminated"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        Progress,
        WorkerStarted,
        CommandApplied,
        CommandRejected,
        CheckpointSaved,
        CheckpointRestored,
        InstanceFailed,
        InstanceTerminated,
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
