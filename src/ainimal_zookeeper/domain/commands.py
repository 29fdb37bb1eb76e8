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


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.kind: cls for cls in (Pause, Resume, SetMode, Terminate, SaveCheckpoint, RestoreCheckpoint)
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
