"""Fold worker events into the DocumentStore: the last reported state of each instance.

Runs on the bus's thread. Level-triggered, like a Kubernetes controller: every event carries
the worker's current status, so a lost or repeated event is corrected by the next one.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.statuses import CommandStatus, RecordingStatus, ReplayStatus
from ainimal_zookeeper.errors import NotFound
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.service.instance_logs import store_lines
from ainimal_zookeeper.service.metric_history import store_points
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.override_records import OverrideRepository
from ainimal_zookeeper.service.pacing import prune_scheduled
from ainimal_zookeeper.service.recordings import cut_short_recordings
from ainimal_zookeeper.service.records import CHECKPOINTS, COMMANDS, INSTANCES, RECORDINGS, REPLAYS, now_iso
from ainimal_zookeeper.service.status_parsing import reported_status, warn_once

log = logging.getLogger(__name__)

_FINAL = {InstanceStatus.TERMINATED.value, InstanceStatus.FAILED.value}


class Projection:
    """Applies events and worker exits to instance, checkpoint and command documents."""

    def __init__(
        self, documents: DocumentStore, notifier: Notifier, progress_interval: float = 0.0, clock: Clock | None = None
    ) -> None:
        self.documents = documents
        self.notifier = notifier
        # Heartbeats and the progress throttle go by this clock, when an event arrives, not by
        # the time the worker wrote in it: a worker's clock may be off (another machine), or
        # lie (hostile model code), and one event dated far ahead would otherwise have kept its
        # instance alive forever and throttled all its later progress away.
        self.clock = clock or SYSTEM_CLOCK
        # Firestore sustains about one write a second per document: progress (four a second
        # per worker) is then written at most once per `progress_interval` per instance,
        # unless the status changed. Status changes, commands and checkpoints always go through.
        self.progress_interval = progress_interval
        self._last_pace: dict[str, float | None] = {}
        self._last_progress: dict[str, tuple[float, str, str | None]] = {}

    def apply(self, event: ev.Event) -> None:
        """Record one event, then wake whoever waits on the store."""
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is None:
            return
        try:
            handler(event)
        except NotFound:
            log.warning("event %s for unknown instance %s ignored", event.kind, event.instance_id)
        self.notifier.notify()

    def worker_exited(self, instance_id: str, exitcode: int | None) -> None:
        """A worker process ended; an instance not already ended by an event has failed."""

        def mark(store: DocumentStore) -> None:
            doc = store.get(INSTANCES, instance_id)
            if doc is None or doc["status"] in _FINAL:
                return
            if exitcode == 0 and doc["status"] == InstanceStatus.STOPPING.value:
                store.update(INSTANCES, instance_id, _ended(InstanceStatus.TERMINATED))
                return
            how = f"was killed by signal {-exitcode}" if exitcode and exitcode < 0 else f"exited with code {exitcode}"
            error = f"the worker process {how} while the instance was {doc['status']}"
            store.update(INSTANCES, instance_id, {**_ended(InstanceStatus.FAILED), "error": error})

        self.documents.run_in_transaction(mark)
        self._last_progress.pop(instance_id, None)  # nothing kept per ended instance
        self._last_pace.pop(instance_id, None)
        cut_short_recordings(self.documents, instance_id)
        self.notifier.notify()

    # one method per event kind

    def _on_Progress(self, event: ev.Progress) -> None:  # noqa: N802  # named after the event kind
        # A changed pace is never throttled: setPace answers with the pace now in force.
        pace_changed = self._last_pace.get(event.instance_id, event.pace) != event.pace
        self._last_pace[event.instance_id] = event.pace
        received = self.clock.time()
        if self._throttled(event, received) and not pace_changed:
            return
        extra: dict[str, Any] = {"pace": event.pace, "stepsPerSecond": event.metrics.get("steps_per_second")}
        if event.state is not None:
            extra["state"] = event.state
        self._update_live(event, extra, received)

    def _throttled(self, event: ev.Progress, received: float) -> bool:
        if self.progress_interval <= 0:
            return False
        last_time, last_status, last_waiting = self._last_progress.get(event.instance_id, (0.0, "", None))
        # A change of status or of whom it waits for is written at once.
        same = event.status == last_status and event.waiting_for == last_waiting
        if same and received - last_time < self.progress_interval:
            return True
        self._last_progress[event.instance_id] = (received, event.status, event.waiting_for)
        return False

    def _on_WorkerStarted(self, event: ev.WorkerStarted) -> None:  # noqa: N802
        self._update_live(event, {"architecture": event.architecture, "pid": event.pid}, self.clock.time())

    def _on_CommandApplied(self, event: ev.CommandApplied) -> None:  # noqa: N802
        fields: dict[str, Any] = {"mode": event.mode} if event.mode else {}
        status = (
            reported_status(InstanceStatus, event.status, f"instance {event.instance_id}") if event.status else None
        )
        if status is not None and status is not InstanceStatus.STOPPING:
            fields["status"] = status.value
        if event.step is not None:
            fields.update(step=event.step, episode=event.episode)
        self._update_unless_final(event.instance_id, {**fields, "lastHeartbeat": self.clock.time()})
        # Settled last: a request waiting on the command then reads the instance as it now is.
        self._settle_command(event.instance_id, event.command_id, CommandStatus.APPLIED, None)

    def _on_CommandRejected(self, event: ev.CommandRejected) -> None:  # noqa: N802
        self._settle_command(event.instance_id, event.command_id, CommandStatus.REJECTED, event.error)

    def _on_CheckpointSaved(self, event: ev.CheckpointSaved) -> None:  # noqa: N802
        instance = self.documents.get(INSTANCES, event.instance_id) or {}
        self.documents.put(
            CHECKPOINTS,
            event.checkpoint_id,
            {
                "id": event.checkpoint_id,
                "tag": event.tag or f"step-{event.step}",
                "step": event.step,
                "episode": event.episode,
                "parent": event.parent_id,
                "createdAt": now_iso(),
                "metrics": event.metrics,
                "sizeBytes": event.size_bytes,
                "blobKey": event.blob_key,
                "instance": event.instance_id,
                "model": instance.get("model"),
                # A scheduled checkpoint (checkpointEvery): only the newest `keep` of these stay.
                "scheduled": event.keep > 0,
                "scheduledSeq": event.time if event.keep > 0 else None,
            },
        )
        self.documents.update(INSTANCES, event.instance_id, {"headCheckpoint": event.checkpoint_id})
        if event.keep > 0:
            prune_scheduled(self.documents, event.instance_id, event.keep)

    def _on_CheckpointRestored(self, event: ev.CheckpointRestored) -> None:  # noqa: N802
        self._update_unless_final(
            event.instance_id, {"headCheckpoint": event.checkpoint_id, "step": event.step, "episode": event.episode}
        )

    def _on_InstanceFailed(self, event: ev.InstanceFailed) -> None:  # noqa: N802
        # Always overwrite: the worker's own message is more precise than an exit code.
        self.documents.update(INSTANCES, event.instance_id, {**_ended(InstanceStatus.FAILED), "error": event.error})
        cut_short_recordings(self.documents, event.instance_id)

    def _on_RecordingChunkWritten(self, event: ev.RecordingChunkWritten) -> None:  # noqa: N802
        def count(store: DocumentStore) -> None:
            record = store.get(RECORDINGS, event.recording_id)
            # A chunk announced again (at-least-once buses) is counted once: chunks come in order.
            if record is None or event.chunk_index < int(record.get("chunks") or 0):
                return
            store.update(
                RECORDINGS,
                event.recording_id,
                {
                    "chunks": event.chunk_index + 1,
                    "steps": int(record.get("steps") or 0) + event.rows,
                    "sizeBytes": int(record.get("sizeBytes") or 0) + event.size_bytes,
                    "lastStep": event.last_step,
                },
            )

        self.documents.run_in_transaction(count)

    def _on_RecordingStopped(self, event: ev.RecordingStopped) -> None:  # noqa: N802
        record = self.documents.get(RECORDINGS, event.recording_id)
        status = reported_status(RecordingStatus, event.status, f"recording {event.recording_id}")
        if record is None or record["status"] != RecordingStatus.RECORDING or status is None:
            return
        fields: dict[str, Any] = {"status": status.value, "stoppedAt": now_iso(), "chunks": event.chunks}
        if event.error:
            fields.update(error=event.error, cutShort=status is RecordingStatus.FAILED)
        self.documents.update(RECORDINGS, event.recording_id, fields)

    def _on_ReplayProgress(self, event: ev.ReplayProgress) -> None:  # noqa: N802
        record = self.documents.get(REPLAYS, event.replay_id)
        status = reported_status(ReplayStatus, event.status, f"replay {event.replay_id}")
        if record is None or record["status"] != ReplayStatus.RUNNING or status is None:
            return
        self.documents.update(
            REPLAYS, event.replay_id, {"status": status.value, "steps": event.steps, "error": event.error}
        )

    def _on_InstanceTerminated(self, event: ev.InstanceTerminated) -> None:  # noqa: N802
        self._update_unless_final(
            event.instance_id,
            {
                **_ended(InstanceStatus.TERMINATED),
                "step": event.step,
                "episode": event.episode,
                **({"stopReason": event.reason} if event.reason else {}),
            },
        )
        if event.reason:
            self._keep_stop_reason(event.instance_id, event.reason, event.step, event.episode)

    def _keep_stop_reason(self, instance_id: str, reason: str, step: int, episode: int) -> None:
        """A worker that ended itself (a budget) may be seen exiting before its last event arrives:
        the instance was then marked ended from its exit code alone, and the reason is told now."""

        def update(store: DocumentStore) -> None:
            doc = store.get(INSTANCES, instance_id)
            if doc is not None and not doc.get("stopReason"):
                fields = {"stopReason": reason, "step": step, "episode": episode, "error": None}
                store.update(INSTANCES, instance_id, {**fields, "status": InstanceStatus.TERMINATED.value})

        self.documents.run_in_transaction(update)

    def _on_OverrideChanged(self, event: ev.OverrideChanged) -> None:  # noqa: N802
        # The worker ended an override by itself (a takeover's lease expired, an emergency stop).
        if event.active or not event.reason:
            return
        overrides = OverrideRepository(self.documents)
        record = overrides.get(event.override_id)
        if record is not None and record.active:
            overrides.mark_cleared(event.override_id, None, reason=event.reason)

    def _on_MetricPoints(self, event: ev.MetricPoints) -> None:  # noqa: N802
        store_points(self.documents, event)  # metric history: service/metric_history.py

    def _on_LogLines(self, event: ev.LogLines) -> None:  # noqa: N802
        store_lines(self.documents, event)  # instance logs: service/instance_logs.py

    # helpers

    def _update_live(self, event: ev.Progress, extra: dict[str, Any], received: float) -> None:
        fields = {
            "mode": event.mode,
            "step": event.step,
            "episode": event.episode,
            "metrics": event.metrics,
            "lastHeartbeat": received,
            "waitingFor": event.waiting_for,
            **extra,
        }

        def update(store: DocumentStore) -> None:
            doc = store.get(INSTANCES, event.instance_id)
            if doc is None:
                raise NotFound(event.instance_id)
            if doc["status"] in _FINAL:
                return
            # A stopping instance stays STOPPING until its worker says it has ended; a status this
            # version does not know leaves the stored one as it is.
            reported = reported_status(InstanceStatus, event.status, f"instance {event.instance_id}")
            stopping = doc["status"] == InstanceStatus.STOPPING.value
            status = reported.value if reported is not None and not stopping else doc["status"]
            store.update(INSTANCES, event.instance_id, {**fields, "status": status, "updatedAt": now_iso()})

        self.documents.run_in_transaction(update)

    def _update_unless_final(self, instance_id: str, fields: dict[str, Any]) -> None:
        def update(store: DocumentStore) -> None:
            doc = store.get(INSTANCES, instance_id)
            if doc is None:
                raise NotFound(instance_id)
            if doc["status"] not in _FINAL:
                store.update(INSTANCES, instance_id, {**fields, "updatedAt": now_iso()})

        self.documents.run_in_transaction(update)

    def _settle_command(self, instance_id: str, command_id: str, outcome: CommandStatus, error: str | None) -> None:
        """Record a worker's verdict on a command sent to its own instance; a verdict on another
        instance's command (a worker naming a command id it was never sent) changes nothing."""
        sent = self.documents.get(COMMANDS, command_id)
        if sent is None:
            return
        if sent.get("instance") != instance_id:
            warn_once(
                ("verdict", instance_id),
                "instance %s's worker gave a verdict on a command sent to another instance: ignored (warned once)",
                instance_id[:64],
            )
            return
        fields = {"status": outcome.value, "error": error, "settledAt": time.time()}
        self.documents.update(COMMANDS, command_id, fields)


def _ended(status: InstanceStatus) -> dict[str, Any]:
    return {"status": status.value, "updatedAt": now_iso(), "endedAt": now_iso(), "waitingFor": None}
