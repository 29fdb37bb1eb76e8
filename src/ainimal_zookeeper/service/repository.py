"""Typed access to the stored instances, checkpoints, recordings, replays and commands.

The one place the services meet documents: reads become records (`service/records.py`),
writes take the document's fields (camelCase, as the projection writes them too).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.statuses import CommandStatus, RecordingStatus
from ainimal_zookeeper.errors import NotFound
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.service.records import (
    CHECKPOINTS,
    COMMANDS,
    INSTANCES,
    RECORDINGS,
    REPLAYS,
    Checkpoint,
    Instance,
    Recording,
    Replay,
    now_iso,
)
from ainimal_zookeeper.service.status_parsing import known_status, stored_status

CUT_SHORT = "the instance ended before the recording was stopped; chunks written until then are kept"

log = logging.getLogger(__name__)

R = TypeVar("R")


def read_all(docs: Iterable[Mapping[str, Any]], read: Callable[[Mapping[str, Any]], R], what: str) -> list[R]:
    """Each document as a record; one that cannot be read at all (not even an object) is left
    out and logged, so a list never fails for the others (`from_document` itself never fails
    on odd values, see `service/records.py`)."""
    found = []
    for doc in docs:
        try:
            found.append(read(doc))
        except Exception:  # a damaged document must not hide the rest
            doc_id = doc.get("id") if isinstance(doc, Mapping) else None
            log.exception("a stored %s (id %r) could not be read and is left out of the list", what, doc_id)
    return found


class InstanceRepository:
    """Instances, read as `Instance` records."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    def get(self, instance_id: str) -> Instance | None:
        doc = self.documents.get(INSTANCES, instance_id)
        return Instance.from_document(doc) if doc is not None else None

    def require(self, instance_id: str) -> Instance:
        """The instance; `NotFound` when there is none."""
        found = self.get(instance_id)
        if found is None:
            raise NotFound(f"unknown instance {instance_id!r}")
        return found

    def find(
        self, statuses: Iterable[str] | None = None, owner: str | None = None, ordered: bool = False
    ) -> list[Instance]:
        """Instances in one of `statuses` (all when None) and of `owner` (anyone's when None);
        oldest first when `ordered` (a query the API lists)."""
        where: list[tuple[str, str, Any]] = []
        if statuses is not None:
            where.append(("status", "in", [str(s) for s in statuses]))
        if owner is not None:
            where.append(("owner", "==", owner))
        found = self.documents.find(INSTANCES, where, order_by="createdAt" if ordered else None)
        return read_all(found, Instance.from_document, "instance")

    def create(self, instance: Instance, check: Callable[[DocumentStore], None]) -> None:
        """Store a new instance after `check` (limits) passes, in one transaction."""

        def reserve(store: DocumentStore) -> None:
            check(store)
            store.create(INSTANCES, instance.id, instance.to_document())

        self.documents.run_in_transaction(reserve)

    def update(self, instance_id: str, fields: dict[str, Any]) -> None:
        """Merge `fields` (document names) into the instance, whatever its status."""
        self.documents.update(INSTANCES, instance_id, fields)

    def update_if(self, instance_id: str, expected: InstanceStatus | None, fields: dict[str, Any]) -> None:
        """Update unless the instance has ended (or left `expected`), atomically."""

        def update(store: DocumentStore) -> None:
            doc = store.get(INSTANCES, instance_id)
            # A status this version does not know is left alone, as if ended (it reads as FAILED).
            status = known_status(InstanceStatus, doc.get("status")) if doc is not None else None
            if status is None or status.is_final:
                return
            if expected is not None and status is not expected:
                return
            store.update(INSTANCES, instance_id, {**fields, "updatedAt": now_iso()})

        self.documents.run_in_transaction(update)


class CheckpointRepository:
    """Checkpoints, read as `Checkpoint` records (the projection stores them)."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    def get(self, checkpoint_id: str) -> Checkpoint | None:
        doc = self.documents.get(CHECKPOINTS, checkpoint_id)
        return Checkpoint.from_document(doc) if doc is not None else None

    def of_instance(self, instance_id: str) -> list[Checkpoint]:
        found = self.documents.find(CHECKPOINTS, [("instance", "==", instance_id)], order_by="createdAt")
        return read_all(found, Checkpoint.from_document, "checkpoint")


class RecordingRepository:
    """Recordings (a replay's output is one too), read as `Recording` records."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    def get(self, recording_id: str) -> Recording | None:
        doc = self.documents.get(RECORDINGS, recording_id)
        return Recording.from_document(doc) if doc is not None else None

    def create(self, recording: Recording) -> None:
        self.documents.create(RECORDINGS, recording.id, recording.to_document())

    def update(self, recording_id: str, fields: dict[str, Any]) -> None:
        self.documents.update(RECORDINGS, recording_id, fields)

    def fail(self, recording_id: str, error: str) -> None:
        """Mark a recording failed (its start was refused)."""
        self.update(recording_id, {"status": RecordingStatus.FAILED.value, "error": error, "stoppedAt": now_iso()})

    def of_instance(self, instance_id: str) -> list[Recording]:
        found = self.documents.find(RECORDINGS, [("instance", "==", instance_id)], order_by="startedAt")
        return read_all(found, Recording.from_document, "recording")

    def cut_short(self, instance_id: str) -> None:
        """Mark the instance's unfinished recordings as cut short (its worker is gone)."""
        cut_short_recordings(self.documents, instance_id)


def cut_short_recordings(store: DocumentStore, instance_id: str) -> None:
    """Mark the instance's unfinished recordings as cut short (the projection calls it too)."""
    where = [("instance", "==", instance_id), ("status", "==", RecordingStatus.RECORDING.value)]
    for record in store.find(RECORDINGS, where):
        fields = {"status": RecordingStatus.FAILED.value, "cutShort": True, "error": CUT_SHORT, "stoppedAt": now_iso()}
        store.update(RECORDINGS, record["id"], fields)


class ReplayRepository:
    """Replays, read as `Replay` records."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    def get(self, replay_id: str) -> Replay | None:
        doc = self.documents.get(REPLAYS, replay_id)
        return Replay.from_document(doc) if doc is not None else None

    def create(self, replay: Replay) -> None:
        self.documents.create(REPLAYS, replay.id, replay.to_document())

    def update(self, replay_id: str, fields: dict[str, Any]) -> None:
        self.documents.update(REPLAYS, replay_id, fields)


class CommandLog:
    """The `commands` collection: each command sent, and the worker's verdict (the projection's)."""

    def __init__(self, documents: DocumentStore, clock: Callable[[], float] = time.time) -> None:
        self.documents, self._clock = documents, clock

    def record(self, command: cmd.Command) -> None:
        self.documents.put(
            COMMANDS,
            command.command_id,
            {
                "id": command.command_id,
                "instance": command.instance_id,
                "kind": command.kind,
                "status": CommandStatus.SENT.value,
                "sentAt": self._clock(),
            },
        )

    def verdict(self, command_id: str) -> tuple[CommandStatus, str | None]:
        """The command's status and, when rejected, why.

        A verdict this version does not know reads as SENT: the sender goes on waiting and, at its
        timeout, answers with the instance as it is, rather than guessing the command's fate.
        """
        record = self.documents.get(COMMANDS, command_id) or {}
        raw = record.get("status") or CommandStatus.SENT.value
        status, _known = stored_status(CommandStatus, raw, CommandStatus.SENT, f"command {command_id!r}")
        return status, record.get("error")


__all__: Sequence[str] = [
    "CUT_SHORT",
    "CheckpointRepository",
    "CommandLog",
    "read_all",
    "InstanceRepository",
    "RecordingRepository",
    "ReplayRepository",
    "cut_short_recordings",
]
