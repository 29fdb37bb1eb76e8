"""Replays: a recording fed to an instance, and how its outputs differ from the recorded ones.

The worker writes what the instance did into a new recording (`outputRecording`), row for row
with the recorded steps; comparing two recordings is then one function, used for a replay
against its source and for two replays of one recording (two checkpoints side by side).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.statuses import RecordingStatus, ReplayStatus
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.recordings import compare_recordings
from ainimal_zookeeper.service.command_sender import CommandSender
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.notifier import Changes
from ainimal_zookeeper.service.recordings import RecordingService, chunk_keys, new_recording
from ainimal_zookeeper.service.records import Replay, now_iso
from ainimal_zookeeper.service.repository import InstanceRepository, RecordingRepository, ReplayRepository

MODES = ("open_loop", "closed_loop")
MAX_COMPARED_ROWS = 1000


class ReplayService:
    """`replay`, `Replay` lookups and recording comparisons."""

    def __init__(
        self,
        access: InstanceAccess,
        instances: InstanceRepository,
        recordings: RecordingService,
        recording_store: RecordingRepository,
        replays: ReplayRepository,
        sender: CommandSender,
        changes: Changes,
        command_timeout: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """`recordings` reads recordings as a viewer may; `recording_store` stores a replay's output."""
        self.access, self.instances, self.recordings = access, instances, recordings
        self.recording_store, self.replays, self.sender = recording_store, replays, sender
        self.changes, self.command_timeout, self.clock = changes, command_timeout, clock

    def replay(self, viewer: Viewer, instance_id: str, recording_id: str, mode: str = "open_loop") -> Replay:
        mode = (mode or "open_loop").lower()
        if mode not in MODES:
            raise InvalidInput(f"replay mode must be one of {', '.join(MODES)}, got {mode!r}")
        instance = self.access.controllable(viewer, instance_id, "control", "replay on")
        source = self.recordings.get_visible(viewer, recording_id)
        if source.status is RecordingStatus.RECORDING:
            raise Conflict(f"recording {recording_id} is still recording; stop it before replaying it")
        if not source.chunks:
            raise Conflict(f"recording {recording_id} has no steps to replay")
        if "inputs" not in source.streams:
            raise InvalidInput(f"recording {recording_id} did not record inputs, so it cannot be replayed")
        if source.model != instance.model:
            raise InvalidInput(
                f"recording {recording_id} is of model {source.model!r}; instance {instance_id} runs {instance.model!r}"
            )
        replay_id = uuid.uuid4().hex[:16]
        output_id = uuid.uuid4().hex[:16]
        output = new_recording(output_id, instance, ["inputs", "outputs"], viewer.username, replay_of=replay_id)
        self.recording_store.create(output)
        replay = Replay(
            id=replay_id,
            recording=recording_id,
            instance=instance_id,
            mode=mode,
            status=ReplayStatus.RUNNING,
            steps=0,
            total_steps=source.steps,
            output_recording=output_id,
            checkpoint=instance.head_checkpoint,
            error=None,
            owner=viewer.username,
            created_at=now_iso(),
        )
        self.replays.create(replay)
        command = cmd.Replay(
            instance_id,
            replay_id=replay_id,
            recording_id=recording_id,
            chunk_keys=chunk_keys(source),
            mode=mode,
            output_recording_id=output_id,
        )
        try:
            self.sender.send_and_wait(command, self.command_timeout)
        except Exception as exc:
            failed = {"status": ReplayStatus.FAILED.value, "error": str(exc)}
            self.replays.update(replay_id, failed)
            self.recording_store.update(output_id, {"status": RecordingStatus.FAILED.value, "error": str(exc)})
            raise
        return self.get_visible(viewer, replay_id)

    def get(self, viewer: Viewer, replay_id: str) -> Replay | None:
        replay = self.replays.get(replay_id)
        if replay is None or self.access.inspectable(viewer, replay.instance) is None:
            return None
        if replay.status is ReplayStatus.RUNNING:
            instance = self.instances.get(replay.instance)
            if instance is None or instance.status.is_final:
                error = "the instance ended during the replay"
                replay = dataclasses.replace(replay, status=ReplayStatus.FAILED, error=error)
        return replay

    def get_visible(self, viewer: Viewer, replay_id: str) -> Replay:
        replay = self.get(viewer, replay_id)
        if replay is None:
            raise NotFound(f"unknown replay {replay_id!r}")
        return replay

    def wait(self, viewer: Viewer, replay_id: str, timeout: float) -> Replay:
        """The replay once it has ended (for callers that want the finished comparison)."""
        deadline = self.clock.monotonic() + timeout
        while True:
            replay = self.get_visible(viewer, replay_id)
            if replay.status is not ReplayStatus.RUNNING:
                return replay
            if self.clock.monotonic() >= deadline:
                raise Unavailable(f"replay {replay_id} is still running after {timeout:.0f}s")
            self.changes.wait(0.05)

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
        first = self.recordings.get_visible(viewer, recorded_id)
        second = self.recordings.get_visible(viewer, replayed_id)
        for record in (first, second):
            if record.status is RecordingStatus.RECORDING:
                raise Conflict(f"recording {record.id} is still being written; compare it once it has stopped")
        return compare_recordings(self.recordings.table(first), self.recordings.table(second), streams, offset, limit)

    def comparison(
        self, viewer: Viewer, replay: Replay, streams: list[str] | None, offset: int, limit: int
    ) -> dict[str, Any] | None:
        """A replay's outputs against its recording; None while it runs."""
        if replay.status is ReplayStatus.RUNNING:
            return None
        output = self.recordings.get(viewer, replay.output_recording)
        if output is None or not output.chunks:
            return None
        return self.compare(viewer, replay.recording, replay.output_recording, streams, offset, limit)
