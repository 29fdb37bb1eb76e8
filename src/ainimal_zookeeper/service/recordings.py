"""Recordings as the API sees them: start, stop, look up, download and export.

The worker writes the chunks; the projection counts them into the recording's document. A
recording whose instance ended without stopping it is "failed" and `cutShort`: the chunks
written so far stay readable (a worker crash loses at most the chunk in progress).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Viewer, instance_resource
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.streams import DEFAULT_RECORDING, check_recordable, parse_streams
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.authorization import authorize
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.recordings import chunk_key, read_recording, write_merged_ipc
from ainimal_zookeeper.service.records import INSTANCES, RECORDINGS, now_iso

if TYPE_CHECKING:
    import pyarrow as pa

    from ainimal_zookeeper.service.zookeeper import Zookeeper

CUT_SHORT = "the instance ended before the recording was stopped; chunks written until then are kept"


def new_recording(
    recording_id: str, instance: dict[str, Any], streams: list[str], owner: str | None, **extra: Any
) -> dict[str, Any]:
    """A recording's document as it starts."""
    return {
        "id": recording_id,
        "instance": instance["id"],
        "model": instance.get("model"),
        "environment": instance.get("environment"),
        "checkpoint": instance.get("headCheckpoint"),
        "streams": streams,
        "status": "recording",
        "steps": 0,
        "chunks": 0,
        "sizeBytes": 0,
        "startedAt": now_iso(),
        "stoppedAt": None,
        "cutShort": False,
        "error": None,
        "owner": owner,
        "replayOf": None,
        **extra,
    }


def cut_short_recordings(store: DocumentStore, instance_id: str) -> None:
    """Mark the instance's unfinished recordings as cut short (its worker is gone)."""
    for record in store.find(RECORDINGS, [("instance", "==", instance_id), ("status", "==", "recording")]):
        store.update(
            RECORDINGS, record["id"], {"status": "failed", "cutShort": True, "error": CUT_SHORT, "stoppedAt": now_iso()}
        )


class RecordingService:
    """`startRecording`, `stopRecording`, `recording` and the downloads."""

    def __init__(self, zookeeper: Zookeeper) -> None:
        self.zookeeper = zookeeper

    @property
    def documents(self) -> DocumentStore:
        return self.zookeeper.documents

    def start(self, viewer: Viewer, instance_id: str, streams: list[str] | None) -> dict[str, Any]:
        instance = self.zookeeper.controllable(viewer, instance_id, "record", "record")
        selection = parse_streams(streams, default=DEFAULT_RECORDING)
        check_recordable(selection)
        if selection.activations:  # a recording of activations shows the model's insides
            authorize(self.zookeeper.authorizer, viewer, "inspect", instance_resource(instance))
        if not instance.get("environment"):
            raise InvalidInput(f"instance {instance_id} has no environment, so it has no steps to record")
        recording_id = uuid.uuid4().hex[:16]
        self.documents.create(
            RECORDINGS, recording_id, new_recording(recording_id, instance, list(selection.names), viewer.username)
        )
        try:
            self.zookeeper.send_and_wait(
                cmd.StartRecording(instance_id, recording_id=recording_id, streams=list(selection.names)),
                self.zookeeper.timeouts.command,
            )
        except Exception as exc:
            self.documents.update(
                RECORDINGS, recording_id, {"status": "failed", "error": str(exc), "stoppedAt": now_iso()}
            )
            raise
        return self.get_visible(viewer, recording_id)

    def stop(self, viewer: Viewer, recording_id: str) -> dict[str, Any]:
        record = self.get_visible(viewer, recording_id)
        # Authorized before anything else, so a stopped recording answers nobody without the right.
        visible = self.zookeeper.visible(viewer, record["instance"])
        authorize(self.zookeeper.authorizer, viewer, "record", instance_resource(visible))
        if record["status"] != "recording":
            return record
        if record.get("replayOf"):
            raise Conflict(f"recording {recording_id} is a replay's output; it stops when the replay ends")
        instance = self.zookeeper.controllable(viewer, record["instance"], "record", "stop a recording of")
        self.zookeeper.send_and_wait(
            cmd.StopRecording(instance["id"], recording_id=recording_id), self.zookeeper.timeouts.command
        )
        return self.wait_until_stopped(recording_id, self.zookeeper.timeouts.command)

    def wait_until_stopped(self, recording_id: str, timeout: float) -> dict[str, Any]:
        """The recording once its last chunk is counted (the worker announces it right after)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self._reconciled(self._stored(recording_id))
            if record["status"] != "recording":
                return record
            if time.monotonic() >= deadline:
                raise Unavailable(f"recording {recording_id} did not report its end within {timeout:.0f}s")
            self.zookeeper.notifier.wait(0.05)

    def get(self, viewer: Viewer, recording_id: str) -> dict[str, Any] | None:
        record = self.documents.get(RECORDINGS, recording_id)
        if record is None or self.zookeeper.inspectable(viewer, record["instance"]) is None:
            return None  # hidden and missing look the same; watching an instance is not reading its recordings
        return self._reconciled(record)

    def get_visible(self, viewer: Viewer, recording_id: str) -> dict[str, Any]:
        record = self.get(viewer, recording_id)
        if record is None:
            raise NotFound(f"unknown recording {recording_id!r}")
        return record

    def of_instance(self, instance_id: str) -> list[dict[str, Any]]:
        found = self.documents.find(RECORDINGS, [("instance", "==", instance_id)], order_by="startedAt")
        return [self._reconciled(record) for record in found]

    # reading

    def table(self, record: dict[str, Any]) -> pa.Table:
        return read_recording(self._blobs(), self.stored_chunk_keys(record))

    def write_arrow(self, viewer: Viewer, recording_id: str, out: BinaryIO) -> int:
        """The whole recording (what is stored of it) as one Arrow IPC stream."""
        record = self._readable(viewer, recording_id)
        return write_merged_ipc(self._blobs(), self.stored_chunk_keys(record), out)

    def stored_chunk_keys(self, record: dict[str, Any]) -> list[str]:
        """The keys of the recording's chunks that are stored, in order.

        A chunk counted but missing (lost to a storage outage, or deleted) is skipped, so the
        rest can still be read.

        Raises:
            NotFound: none of its chunks is stored.
        """
        counted = chunk_keys(record)
        if not counted:
            return []
        # One listing of the recording's folder, not a look-up per chunk (a request each on GCS).
        present = set(self._blobs().list(counted[0].rsplit("/", 1)[0] + "/"))
        stored = [key for key in counted if key in present]
        if counted and not stored:
            raise NotFound(f"recording {record['id']} has none of its {len(counted)} chunks stored any more")
        return stored

    def export_minari(self, viewer: Viewer, recording_id: str, dataset_id: str | None, out: BinaryIO) -> str:
        """Write the recording as a zipped Minari dataset into `out`; returns the dataset id."""
        from ainimal_zookeeper.recordings import export_minari, zip_dataset

        record = self._readable(viewer, recording_id)
        dataset_id = dataset_id or f"zookeeper/{_slug(record.get('environment') or 'env')}-{recording_id}-v0"
        instance = self.documents.get(INSTANCES, record["instance"]) or {}
        architecture = instance.get("architecture") or {}
        metadata = {
            "observationModality": (architecture.get("inputModalities") or {}).get("observation"),
            "actionModality": (architecture.get("outputModalities") or {}).get("action"),
            "envId": self._gymnasium_id(record.get("environment")),
            "author": record.get("owner"),
            "description": f"AInimal Zookeeper recording {recording_id} of model {record.get('model')}",
            "recordingId": recording_id,
        }
        scratch = Path(tempfile.mkdtemp(prefix="zk-minari-"))
        try:
            folder = export_minari(self.table(record), metadata, dataset_id, scratch)
            zip_dataset(folder, out)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return dataset_id

    def _blobs(self) -> BlobStore:
        if self.zookeeper.blobs is None:
            raise Unavailable("this server was built without a BlobStore, so it keeps no recordings")
        return self.zookeeper.blobs

    def _readable(self, viewer: Viewer, recording_id: str) -> dict[str, Any]:
        record = self.get_visible(viewer, recording_id)
        instance = self.zookeeper.instance(viewer, record["instance"])
        assert instance is not None
        authorize(self.zookeeper.authorizer, viewer, "inspect", instance_resource(instance))
        if not record.get("chunks"):
            raise Conflict(f"recording {recording_id} has no steps written yet")
        return record

    def _gymnasium_id(self, environment: str | None) -> str | None:
        if not environment:
            return None
        try:
            config = self.zookeeper.catalog.environment(environment).config
        except NotFound:
            return None
        return config.get("env_name") if config.get("type") == "gymnasium" else None

    def _stored(self, recording_id: str) -> dict[str, Any]:
        record = self.documents.get(RECORDINGS, recording_id)
        if record is None:
            raise NotFound(f"unknown recording {recording_id!r}")
        return record

    def _reconciled(self, record: dict[str, Any]) -> dict[str, Any]:
        """A recording still "recording" on an instance that ended was cut short (on read)."""
        if record["status"] != "recording":
            return record
        instance = self.documents.get(INSTANCES, record["instance"]) or {"status": "FAILED"}
        if not InstanceStatus(instance["status"]).is_final:
            return record
        cut_short_recordings(self.documents, record["instance"])
        return self.documents.get(RECORDINGS, record["id"]) or record


def chunk_keys(record: dict[str, Any]) -> list[str]:
    """The BlobStore keys of a recording's chunks, in order."""
    return [chunk_key(record["id"], index) for index in range(int(record.get("chunks") or 0))]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "env"
