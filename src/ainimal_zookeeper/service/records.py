"""Collection names, and the typed records the services work with.

The store holds JSON documents with the API's camelCase names (the projection writes them
too); the repositories (`service/repository.py`) turn them into these records with
`from_document` and back with `to_document`. Fields a record does not name (those the
projection or a newer version may add) travel in `extra`, unchanged, so a round trip loses
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import Enum
from types import MappingProxyType
from typing import Any

from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode
from ainimal_zookeeper.domain.statuses import RecordingStatus, ReplayStatus

INSTANCES = "instances"
CHECKPOINTS = "checkpoints"
COMMANDS = "commands"


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string (the API's DateTime)."""
    return datetime.now(UTC).isoformat()


OVERRIDES = "overrides"
RECORDINGS = "recordings"
REPLAYS = "replays"

_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _required(known: dict[str, Any], *names: str) -> None:
    """Fill names every record has with "" where an old or damaged document lacks them (reads never fail)."""
    for name in names:
        if known.get(name) is None:
            known[name] = ""


class _Document:
    """`from_document` / `to_document` for a dataclass whose fields are the document's, in snake_case."""

    extra: Mapping[str, Any]

    @classmethod
    def _split(cls, doc: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The document's values of the record's fields (by snake_case name), and the rest."""
        names = {_camel(f.name): f.name for f in fields(cls) if f.name != "extra"}  # type: ignore[arg-type]
        known = {names[key]: value for key, value in doc.items() if key in names}
        return known, {key: value for key, value in doc.items() if key not in names}

    def to_document(self) -> dict[str, Any]:
        """The record as the store (and the API) spells it."""
        doc = dict(self.extra)
        for f in fields(self):  # type: ignore[arg-type]
            if f.name != "extra":
                value = getattr(self, f.name)
                doc[_camel(f.name)] = value.value if isinstance(value, Enum) else value
        return doc


@dataclass(frozen=True)
class Instance(_Document):
    """One launched AInimal (+ env) as stored."""

    id: str
    model: str
    status: InstanceStatus
    mode: RunMode = RunMode.INFER
    environment: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    environment_parameters: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    episode: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None
    public: bool = False
    created_at: str | None = None
    created_epoch: float | None = None
    seed: int | None = None
    modes: list[str] = field(default_factory=list)
    parent_checkpoint: str | None = None
    head_checkpoint: str | None = None
    error: str | None = None
    pace: float | None = None
    stop_after: dict[str, Any] | None = None
    checkpoint_every: dict[str, Any] | None = None
    # What the projection writes as the worker reports (and the service as it ends).
    architecture: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    pid: int | None = None
    last_heartbeat: float | None = None
    steps_per_second: float | None = None
    waiting_for: str | None = None
    stop_reason: str | None = None
    ended_at: str | None = None
    updated_at: str | None = None
    former_owner: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _NO_EXTRA)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Instance:
        known, extra = cls._split(doc)
        _required(known, "id", "model")
        known["status"] = InstanceStatus(known.get("status") or InstanceStatus.FAILED.value)
        known["mode"] = RunMode(known.get("mode") or RunMode.INFER.value)
        known["public"] = known.get("public") is True
        for name in ("parameters", "environment_parameters", "metrics"):
            known[name] = known.get(name) or {}
        known["modes"] = list(known.get("modes") or [])
        known["step"], known["episode"] = int(known.get("step") or 0), int(known.get("episode") or 0)
        return cls(**known, extra=MappingProxyType(extra))


@dataclass(frozen=True)
class Checkpoint(_Document):
    """Saved weights and state of an instance, with the checkpoint it descends from."""

    id: str
    instance: str
    blob_key: str
    step: int = 0
    episode: int = 0
    tag: str = ""
    parent: str | None = None
    model: str | None = None
    created_at: str | None = None
    metrics: dict[str, Any] | None = None
    size_bytes: int | None = None
    scheduled: bool = False
    scheduled_seq: float | None = None
    # Checkpoints as git tags (models from git-backed hubs): the tag, its commit, how it was made.
    git_tag: str | None = None
    git_commit: str | None = None
    git_pushed: bool | None = None
    git_lfs: bool | None = None
    git_error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _NO_EXTRA)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Checkpoint:
        known, extra = cls._split(doc)
        _required(known, "id", "instance", "blob_key")
        known["step"], known["episode"] = int(known.get("step") or 0), int(known.get("episode") or 0)
        return cls(**known, extra=MappingProxyType(extra))


@dataclass(frozen=True)
class Recording(_Document):
    """A recording of an instance's steps (or a replay's output), counted as its chunks are written."""

    id: str
    instance: str
    status: RecordingStatus
    streams: list[str] = field(default_factory=list)
    model: str | None = None
    environment: str | None = None
    checkpoint: str | None = None
    steps: int = 0
    chunks: int = 0
    size_bytes: int = 0
    started_at: str | None = None
    stopped_at: str | None = None
    cut_short: bool = False
    error: str | None = None
    owner: str | None = None
    replay_of: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _NO_EXTRA)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Recording:
        known, extra = cls._split(doc)
        _required(known, "id", "instance")
        known["status"] = RecordingStatus(known.get("status") or RecordingStatus.FAILED.value)
        known["streams"] = list(known.get("streams") or [])
        for name in ("steps", "chunks", "size_bytes"):
            known[name] = int(known.get(name) or 0)
        known["cut_short"] = bool(known.get("cut_short"))
        return cls(**known, extra=MappingProxyType(extra))


@dataclass(frozen=True)
class Replay(_Document):
    """A recording fed to an instance; its outputs go to `output_recording`."""

    id: str
    recording: str
    instance: str
    status: ReplayStatus
    output_recording: str
    mode: str = "open_loop"
    steps: int = 0
    total_steps: int = 0
    checkpoint: str | None = None
    error: str | None = None
    owner: str | None = None
    created_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _NO_EXTRA)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Replay:
        known, extra = cls._split(doc)
        _required(known, "id", "recording", "instance", "output_recording")
        known["status"] = ReplayStatus(known.get("status") or ReplayStatus.FAILED.value)
        known["steps"], known["total_steps"] = int(known.get("steps") or 0), int(known.get("total_steps") or 0)
        return cls(**known, extra=MappingProxyType(extra))
