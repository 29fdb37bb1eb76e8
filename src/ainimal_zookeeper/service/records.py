"""Collection names, and the typed records the services work with.

The store holds JSON documents with the API's camelCase names (the projection writes them
too); the repositories (`service/repository.py`) turn them into these records with
`from_document` and back with `to_document`. Fields a record does not name (those the
projection or a newer version may add) travel in `extra`, unchanged, so a round trip loses
nothing.

Reading never fails: a document another version wrote, or a damaged one, must not break the
list it is in. A value of the wrong type reads as the field's empty value
(`service/field_coercion.py`); a status this version does not know reads as FAILED (see each
record's `from_document`); both are logged once.
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
from ainimal_zookeeper.service.field_coercion import coerce_fields
from ainimal_zookeeper.service.status_parsing import known_status, stored_status

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


#: What an instance created before this field existed (or damaged) shows as `createdAt` (the API
#: requires one): the moment its `createdEpoch` says, else the Unix epoch.
_EPOCH_ISO = datetime.fromtimestamp(0, UTC).isoformat()


def _iso_or_epoch(seconds: float | None) -> str:
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat() if seconds else _EPOCH_ISO
    except (OverflowError, OSError, ValueError):  # a time no calendar holds
        return _EPOCH_ISO


def _unknown_status_note(raw: object, shown: str, error: str | None) -> str:
    """The error an instance, recording or replay in a status this version does not know shows."""
    note = f"stored status {str(raw)[:80]!r} is not one this server version knows; shown as {shown}"
    return f"{note} ({error})" if error else note


class _Document:
    """`from_document` / `to_document` for a dataclass whose fields are the document's, in snake_case."""

    extra: Mapping[str, Any]

    @classmethod
    def _split(cls, doc: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The document's values of the record's fields (by snake_case name), and the rest."""
        names = {_camel(f.name): f.name for f in fields(cls) if f.name != "extra"}  # type: ignore[arg-type]
        known = {names[key]: value for key, value in doc.items() if key in names}
        coerce_fields(cls, known)  # values of the wrong type read as empty (reads never fail)
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
        """The stored instance; never fails, so one odd document cannot hide the others.

        A status this version does not know (a newer or older server wrote it) reads as FAILED,
        with the stored value told in `error`: the API's InstanceStatus has no other way to show
        it, FAILED is final so nothing is sent to a worker in a state this version cannot judge,
        and the instance stays listed (not skipped) so its owner sees it and the data is kept. The
        store is not rewritten: the worker's next event (or the version that knows the status)
        corrects it. An unknown mode reads as INFER, as a missing one always did.
        """
        known, extra = cls._split(doc)
        raw_status = known.get("status")
        if raw_status is None or raw_status == "":
            known["status"] = InstanceStatus.FAILED
        else:
            known["status"], is_known = stored_status(
                InstanceStatus, raw_status, InstanceStatus.FAILED, f"instance {known['id']!r}"
            )
            if not is_known:
                known["error"] = _unknown_status_note(raw_status, InstanceStatus.FAILED.value, known.get("error"))
        known["mode"] = known_status(RunMode, known.get("mode")) or RunMode.INFER
        known["public"] = doc.get("public") is True  # only a real true makes an instance public
        # The API lists these as [RunMode!]!: a name it cannot show would fail the whole list.
        known["modes"] = [mode for mode in known["modes"] if known_status(RunMode, mode) is not None]
        if not known.get("created_at"):
            known["created_at"] = _iso_or_epoch(known.get("created_epoch"))
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
        """The stored recording; a status this version does not know reads as failed (told in
        `error`, the store unchanged), so it is offered as what it is: chunks, maybe incomplete."""
        known, extra = cls._split(doc)
        raw_status = known.get("status") or RecordingStatus.FAILED.value
        known["status"], is_known = stored_status(
            RecordingStatus, raw_status, RecordingStatus.FAILED, f"recording {known['id']!r}"
        )
        if not is_known:
            known["error"] = _unknown_status_note(raw_status, RecordingStatus.FAILED.value, known.get("error"))
        known["cut_short"] = bool(doc.get("cutShort"))
        known["started_at"] = known.get("started_at") or _EPOCH_ISO  # the API requires one
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
        """The stored replay; a status this version does not know reads as failed (told in `error`)."""
        known, extra = cls._split(doc)
        raw_status = known.get("status") or ReplayStatus.FAILED.value
        known["status"], is_known = stored_status(
            ReplayStatus, raw_status, ReplayStatus.FAILED, f"replay {known['id']!r}"
        )
        if not is_known:
            known["error"] = _unknown_status_note(raw_status, ReplayStatus.FAILED.value, known.get("error"))
        return cls(**known, extra=MappingProxyType(extra))
