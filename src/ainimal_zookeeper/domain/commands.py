"""Commands from the control plane to a worker: imperative, idempotent, JSON-serialisable.

Every command carries a `command_id`; a worker applies each id once, so a bus that delivers
at least once (Pub/Sub, or the local bus after a reconnect) is safe.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ainimal_zookeeper.errors import InvalidInput


def new_id() -> str:
    """A fresh, URL-safe unique id."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Command:
    """Base of every command; `kind` names the concrete class on the wire."""

    instance_id: str
    command_id: str = field(default_factory=new_id)
    kind: ClassVar[str] = "Command"

    def to_dict(self) -> dict[str, Any]:
        """The wire form: the fields plus `kind`."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Pause(Command):
    kind: ClassVar[str] = "Pause"


@dataclass(frozen=True)
class Resume(Command):
    kind: ClassVar[str] = "Resume"


@dataclass(frozen=True)
class SetMode(Command):
    mode: str = "INFER"
    kind: ClassVar[str] = "SetMode"


@dataclass(frozen=True)
class Terminate(Command):
    kind: ClassVar[str] = "Terminate"


@dataclass(frozen=True)
class SaveCheckpoint(Command):
    """Save into the BlobStore and report `CheckpointSaved` with this `checkpoint_id`."""

    checkpoint_id: str = ""
    tag: str = ""
    kind: ClassVar[str] = "SaveCheckpoint"


@dataclass(frozen=True)
class RestoreCheckpoint(Command):
    """Load the checkpoint stored under `blob_key` into the running AInimal."""

    checkpoint_id: str = ""
    blob_key: str = ""
    kind: ClassVar[str] = "RestoreCheckpoint"


@dataclass(frozen=True)
class ObserveStreams(Command):
    """Someone watches: compute `streams` at up to `max_hz` until the lease runs out.

    Each observer (one open `telemetry` stream) renews its lease while it is open, so a
    control plane that vanishes leaves no hooks running: the worker drops expired leases.
    Empty `streams` ends the observer's lease at once.
    """

    observer_id: str = ""
    streams: list[str] = field(default_factory=list)
    max_hz: float = 10.0
    lease_seconds: float = 15.0
    kind: ClassVar[str] = "ObserveStreams"


@dataclass(frozen=True)
class SampleTelemetry(Command):
    """Publish one `TelemetryFrame` of `streams` now, answering `request_id`."""

    request_id: str = ""
    streams: list[str] = field(default_factory=list)
    kind: ClassVar[str] = "SampleTelemetry"


@dataclass(frozen=True)
class SetOverride(Command):
    """Force a value into `target` (inputs/<m>, outputs/<m>, activations/<layer>) until cleared.

    A `takeover` ("realtime" or "lockstep") on an output makes it a human takeover fed by
    `Act` commands: realtime uses the latest human action at each step (the AInimal's own
    fills gaps: no action yet, or a null one); lockstep makes the env wait for each human
    action, up to `timeout_seconds`, then the AInimal acts. Without `RenewTakeover` or `Act`
    for `hold_seconds` (the lease) the worker ends the takeover by itself.
    """

    override_id: str = ""
    target: str = ""
    mode: str = "set"
    value: Any = None
    index: Any = None
    takeover: str | None = None
    hold_seconds: float | None = None
    timeout_seconds: float = 10.0
    set_by: str | None = None
    kind: ClassVar[str] = "SetOverride"


@dataclass(frozen=True)
class ClearOverride(Command):
    override_id: str = ""
    kind: ClassVar[str] = "ClearOverride"


@dataclass(frozen=True)
class Act(Command):
    """A human action for the takeover of `target` (None: let the AInimal act)."""

    target: str = "outputs/action"
    value: Any = None
    # When the control plane sent it (its time.time()): a worker drops actions that come too late.
    sent_at: float | None = None
    kind: ClassVar[str] = "Act"


@dataclass(frozen=True)
class StartRecording(Command):
    recording_id: str = ""
    streams: list[str] = field(default_factory=list)
    kind: ClassVar[str] = "StartRecording"


@dataclass(frozen=True)
class StopRecording(Command):
    recording_id: str = ""
    kind: ClassVar[str] = "StopRecording"


@dataclass(frozen=True)
class Replay(Command):
    """Feed a recording to this instance and record what it does under `output_recording_id`.

    open_loop: the recorded inputs go to the AInimal step by step (the env is not stepped);
    closed_loop: the env restarts where the recording started (or where its first recorded
    episode did), the AInimal acts for itself, so the trajectories may diverge, and each
    episode starts as the recorded one did.
    """

    replay_id: str = ""
    recording_id: str = ""
    chunk_keys: list[str] = field(default_factory=list)
    mode: str = "open_loop"
    output_recording_id: str = ""
    streams: list[str] = field(default_factory=list)
    kind: ClassVar[str] = "Replay"


@dataclass(frozen=True)
class RenewTakeover(Command):
    """The takeover's holder is still there: its lease runs `hold_seconds` from now (fire and forget)."""

    override_id: str = ""
    kind: ClassVar[str] = "RenewTakeover"


@dataclass(frozen=True)
class EmergencyStop(Command):
    """Pause now and clear every override and takeover; applied before other queued commands."""

    kind: ClassVar[str] = "EmergencyStop"


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.kind: cls
    for cls in (
        Pause,
        Resume,
        SetMode,
        Terminate,
        SaveCheckpoint,
        RestoreCheckpoint,
        ObserveStreams,
        SampleTelemetry,
        SetOverride,
        ClearOverride,
        Act,
        StartRecording,
        StopRecording,
        Replay,
        RenewTakeover,
        EmergencyStop,
    )
}


def command_from_dict(data: dict[str, Any]) -> Command:
    """Rebuild a command from its wire form.

    Raises:
        InvalidInput: unknown kind or fields (a poison message).
    """
    payload = dict(data)
    kind = payload.pop("kind", None)
    cls = COMMAND_TYPES.get(str(kind))
    if cls is None:
        raise InvalidInput(f"unknown command kind {kind!r}; expected one of {sorted(COMMAND_TYPES)}")
    try:
        return cls(**payload)
    except TypeError as exc:
        raise InvalidInput(f"malformed {kind} command: {exc}") from exc


@dataclass(frozen=True)
class SetPace(Command):
    """At most `pace` steps a second (None: as fast as it goes); `realtime`: the env's own rate."""

    pace: float | None = None
    realtime: bool = False
    kind: ClassVar[str] = "SetPace"


COMMAND_TYPES[SetPace.kind] = SetPace
