"""Recordings as the API sees them: start, stop, look up, download and export.

The worker writes the chunks; the projection counts them into the recording's document. A
recording whose instance ended without stopping it is "failed" and `cutShort`: the chunks
written so far stay readable (a worker crash loses at most the chunk in progress).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.statuses import RecordingStatus
from ainimal_zookeeper.domain.streams import DEFAULT_RECORDING, check_recordable, parse_streams
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.recordings import chunk_key, read_recording, write_merged_ipc
from ainimal_zookeeper.service.command_sender import CommandSender
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.notifier import Changes
from ainimal_zookeeper.service.records import Instance, Recording, now_iso
from ainimal_zookeeper.service.repository import (
    CUT_SHORT,
    InstanceRepository,
    RecordingRepository,
    cut_short_recordings,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from ainimal_zookeeper.catalog.catalog import Catalog

__all__ = ["CUT_SHORT", "RecordingService", "chunk_keys", "cut_short_recordings", "new_recording"]


def new_recording(
    recording_id: str, instance: Instance, streams: list[str], owner: str | None, replay_of: str | None = None
) -> Recording:
    """A recording as it starts."""
    return Recording(
        id=recording_id,
        instance=instance.id,
        model=instance.model,
        environment=instance.environment,
        checkpoint=instance.head_checkpoint,
        streams=streams,
        status=RecordingStatus.RECORDING,
        started_at=now_iso(),
        owner=owner,
        replay_of=replay_of,
    )


class RecordingService:
    """`startRecording`, `stopRecording`, `recording` and the downloads."""

    def __init__(
        self,
        catalog: Catalog,
        access: InstanceAccess,
        instances: InstanceRepository,
        recordings: RecordingRepository,
        sender: CommandSender,
        blobs: BlobStore | None,
        changes: Changes,
        command_timeout: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.catalog, self.access, self.instances, self.recordings = catalog, access, instances, recordings
        self.sender, self.blobs, self.changes = sender, blobs, changes
        self.command_timeout, self.clock = command_timeout, clock

    def start(self, viewer: Viewer, instance_id: str, streams: list[str] | None) -> Recording:
        instance = self.access.controllable(viewer, instance_id, "record", "record")
        selection = parse_streams(streams, default=DEFAULT_RECORDING)
        check_recordable(selection)
        if selection.activations:  # a recording of activations shows the model's insides
            self.access.authorize(viewer, "inspect", instance)
        if not instance.environment:
            raise InvalidInput(f"instance {instance_id} has no environment, so it has no steps to record")
        recording_id = uuid.uuid4().hex[:16]
        self.recordings.create(new_recording(recording_id, instance, list(selection.names), viewer.username))
        try:
            self.sender.send_and_wait(
                cmd.StartRecording(instance_id, recording_id=recording_id, streams=list(selection.names)),
                self.command_timeout,
            )
        except Exception as exc:
            self.recordings.fail(recording_id, str(exc))
            raise
        return self.get_visible(viewer, recording_id)

    def stop(self, viewer: Viewer, recording_id: str) -> Recording:
        record = self.get_visible(viewer, recording_id)
        # Authorized before anything else, so a stopped recording answers nobody without the right.
        self.access.authorize(viewer, "record", self.access.visible(viewer, record.instance))
        if record.status is not RecordingStatus.RECORDING:
            return record
        if record.replay_of:
            raise Conflict(f"recording {recording_id} is a replay's output; it stops when the replay ends")
        instance = self.access.controllable(viewer, record.instance, "record", "stop a recording of")
        self.sender.send_and_wait(cmd.StopRecording(instance.id, recording_id=recording_id), self.command_timeout)
        return self.wait_until_stopped(recording_id, self.command_timeout)

    def wait_until_stopped(self, recording_id: str, timeout: float) -> Recording:
        """The recording once its last chunk is counted (the worker announces it right after)."""
        deadline = self.clock.monotonic() + timeout
        while True:
            record = self._reconciled(self._stored(recording_id))
            if record.status is not RecordingStatus.RECORDING:
                return record
            if self.clock.monotonic() >= deadline:
                raise Unavailable(f"recording {recording_id} did not report its end within {timeout:.0f}s")
            self.changes.wait(0.05)

    def get(self, viewer: Viewer, recording_id: str) -> Recording | None:
        record = self.recordings.get(recording_id)
        if record is None or self.access.inspectable(viewer, record.instance) is None:
            return None  # hidden and missing look the same; watching an instance is not reading its recordings
        return self._reconciled(record)

    def get_visible(self, viewer: Viewer, recording_id: str) -> Recording:
        record = self.get(viewer, recording_id)
        if record is None:
            raise NotFound(f"unknown recording {recording_id!r}")
        return record

    def of_instance(self, instance_id: str) -> list[Recording]:
        return [self._reconciled(record) for record in self.recordings.of_instance(instance_id)]

    # reading

    def table(self, record: Recording) -> pa.Table:
        return read_recording(self._blobs(), self.stored_chunk_keys(record))

    def write_arrow(self, viewer: Viewer, recording_id: str, out: BinaryIO) -> int:
        """The whole recording (what is stored of it) as one Arrow IPC stream."""
        record = self._readable(viewer, recording_id)
        return write_merged_ipc(self._blobs(), self.stored_chunk_keys(record), out)

    def stored_chunk_keys(self, record: Recording) -> list[str]:
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
            raise NotFound(f"recording {record.id} has none of its {len(counted)} chunks stored any more")
        return stored

    def export_minari(self, viewer: Viewer, recording_id: str, dataset_id: str | None, out: BinaryIO) -> str:
        """Write the recording as a zipped Minari dataset into `out`; returns the dataset id."""
        from ainimal_zookeeper.recordings import export_minari, zip_dataset

        record = self._readable(viewer, recording_id)
        dataset_id = dataset_id or f"zookeeper/{_slug(record.environment or 'env')}-{recording_id}-v0"
        instance = self.instances.get(record.instance)
        architecture = (instance.architecture if instance else None) or {}
        metadata = {
            "observationModality": (architecture.get("inputModalities") or {}).get("observation"),
            "actionModality": (architecture.get("outputModalities") or {}).get("action"),
            "envId": self._gymnasium_id(record.environment),
            "author": record.owner,
            "description": f"AInimal Zookeeper recording {recording_id} of model {record.model}",
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
        if self.blobs is None:
            raise Unavailable("this server was built without a BlobStore, so it keeps no recordings")
        return self.blobs

    def _readable(self, viewer: Viewer, recording_id: str) -> Recording:
        record = self.get_visible(viewer, recording_id)
        self.access.authorize(viewer, "inspect", self.access.visible(viewer, record.instance))
        if not record.chunks:
            raise Conflict(f"recording {recording_id} has no steps written yet")
        return record

    def _gymnasium_id(self, environment: str | None) -> str | None:
        if not environment:
            return None
        try:
            config = self.catalog.environment(environment).config
        except NotFound:
            return None
        return config.get("env_name") if config.get("type") == "gymnasium" else None

    def _stored(self, recording_id: str) -> Recording:
        record = self.recordings.get(recording_id)
        if record is None:
            raise NotFound(f"unknown recording {recording_id!r}")
        return record

    def _reconciled(self, record: Recording) -> Recording:
        """A recording still "recording" on an instance that ended was cut short (on read)."""
        if record.status is not RecordingStatus.RECORDING:
            return record
        instance = self.instances.get(record.instance)
        if instance is not None and not instance.status.is_final:
            return record
        self.recordings.cut_short(record.instance)
        return self.recordings.get(record.id) or record


def chunk_keys(record: Recording) -> list[str]:
    """The BlobStore keys of a recording's chunks, in order."""
    return [chunk_key(record.id, index) for index in range(record.chunks)]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "env"
