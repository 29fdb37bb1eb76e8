"""Replays: a recording fed to an instance, and how its outputs differ from the recorded ones.

The worker writes what the instance did into a new recording (`outputRecording`), row for row
with the recorded steps; comparing two recordings is then one function, used for a replay
against its source and for two replays of one recording (two checkpoints side by side).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.recordings import compare_recordings
from ainimal_zookeeper.service.recordings import chunk_keys, new_recording
from ainimal_zookeeper.service.records import INSTANCES, RECORDINGS, REPLAYS, now_iso

if TYPE_CHECKING:
    from ainimal_zookeeper.service.zookeeper import Zookeeper

MODES = ("open_loop", "closed_loop")
MAX_COMPARED_ROWS = 1000


class ReplayService:
    """`replay`, `Replay` lookups and recording comparisons."""

    def __init__(self, zookeeper: Zookeeper) -> None:
        self.zookeeper = zookeeper

    def replay(self, viewer: Viewer, instance_id: str, recording_id: str, mode: str = "open_loop") -> dict[str, Any]:
        mode = (mode or "open_loop").lower()
        if mode not in MODES:
            raise InvalidInput(f"replay mode must be one of {', '.join(MODES)}, got {mode!r}")
        instance = self.zookeeper.controllable(viewer, instance_id, "control", "replay on")
        source = self.zookeeper.recordings.get_visible(viewer, recording_id)
        if source["status"] == "recording":
            raise Conflict(f"recording {recording_id} is still recording; stop it before replaying it")
        if not source.get("chunks"):
            raise Conflict(f"recording {recording_id} has no steps to replay")
        if "inputs" not in source.get("streams", []):
            raise InvalidInput(f"recording {recording_id} did not record inputs, so it cannot be replayed")
        if source.get("model") != instance.get("model"):
            raise InvalidInput(
                f"recording {recording_id} is of model {source.get('model')!r}; instance {instance_id} "
                f"runs {instance.get('model')!r}"
            )
        replay_id = uuid.uuid4().hex[:16]
        output_id = uuid.uuid4().hex[:16]
        self.zookeeper.documents.create(
            RECORDINGS,
            output_id,
            new_recording(output_id, instance, ["inputs", "outputs"], viewer.username, replayOf=replay_id),
        )
        record = {
            "id": replay_id,
            "recording": recording_id,
            "instance": instance_id,
            "mode": mode,
            "status": "running",
            "steps": 0,
            "totalSteps": source.get("steps", 0),
            "outputRecording": output_id,
            "checkpoint": instance.get("headCheckpoint"),
            "error": None,
            "owner": viewer.username,
            "createdAt": now_iso(),
        }
        self.zookeeper.documents.create(REPLAYS, replay_id, record)
        command = cmd.Replay(
            instance_id,
            replay_id=replay_id,
            recording_id=recording_id,
            chunk_keys=chunk_keys(source),
            mode=mode,
            output_recording_id=output_id,
        )
        try:
            self.zookeeper.send_and_wait(command, self.zookeeper.timeouts.command)
        except Exception as exc:
            self.zookeeper.documents.update(REPLAYS, replay_id, {"status": "failed", "error": str(exc)})
            self.zookeeper.documents.update(RECORDINGS, output_id, {"status": "failed", "error": str(exc)})
            raise
        return self.get_visible(viewer, replay_id)

    def get(self, viewer: Viewer, replay_id: str) -> dict[str, Any] | None:
        record = self.zookeeper.documents.get(REPLAYS, replay_id)
        if record is None or self.zookeeper.inspectable(viewer, record["instance"]) is None:
            return None
        if record["status"] == "running":
            instance = self.zookeeper.documents.get(INSTANCES, record["instance"]) or {"status": "FAILED"}
            if InstanceStatus(instance["status"]).is_final:
                record = {**record, "status": "failed", "error": "the instance ended during the replay"}
        return record

    def get_visible(self, viewer: Viewer, replay_id: str) -> dict[str, Any]:
        record = self.get(viewer, replay_id)
        if record is None:
            raise NotFound(f"unknown replay {replay_id!r}")
        return record

    def wait(self, viewer: Viewer, replay_id: str, timeout: float) -> dict[str, Any]:
        """The replay once it has ended (for callers that want the finished comparison)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.get_visible(viewer, replay_id)
            if record["status"] != "running":
                return record
            if time.monotonic() >= deadline:
                raise Unavailable(f"replay {replay_id} is still running after {timeout:.0f}s")
            self.zookeeper.notifier.wait(0.05)

    def compare(
        self,
        viewer: Viewer,
        recorded_id: str,
        replayed_id: str,
        streams: list[str] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> dict[str, Any]:
        """Per-step differences between two recordings, row by row."""
        if offset < 0 or not 0 <= limit <= MAX_COMPARED_ROWS:
            raise InvalidInput(f"offset must be >= 0 and limit within [0, {MAX_COMPARED_ROWS}]")
        recordings = self.zookeeper.recordings
        first = recordings.get_visible(viewer, recorded_id)
        second = recordings.get_visible(viewer, replayed_id)
        for record in (first, second):
            if record["status"] == "recording":
                raise Conflict(f"recording {record['id']} is still being written; compare it once it has stopped")
        return compare_recordings(recordings.table(first), recordings.table(second), streams, offset, limit)

    def comparison(
        self, viewer: Viewer, replay: dict[str, Any], streams: list[str] | None, offset: int, limit: int
    ) -> dict[str, Any] | None:
        """A replay's outputs against its recording; None while it runs."""
        if replay["status"] == "running":
            return None
        output = self.zookeeper.recordings.get(viewer, replay["outputRecording"])
        if output is None or not output.get("chunks"):
            return None
        return self.compare(viewer, replay["recording"], replay["outputRecording"], streams, offset, limit)
