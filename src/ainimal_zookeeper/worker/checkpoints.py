"""Checkpoints of a running instance: the model's files plus the harness state, saved and restored."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.event_origin import checkpoint_prefix
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.sdk.checkpoint_files import MODEL_DIR, fetch_checkpoint, store_checkpoint
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.user_code import describe

log = logging.getLogger(__name__)


class Checkpoints:
    """Saves the instance where it stands, and loads a saved one back; `head` is the latest."""

    def __init__(self, blobs: BlobStore, outbox: EventOutbox, episodes: Episodes, head: str | None) -> None:
        self.blobs, self.outbox, self.episodes = blobs, outbox, episodes
        self.head = head

    def save(self, command: cmd.SaveCheckpoint, keep: int = 0) -> None:
        """Store the model and the harness state; announce it (CheckpointSaved) as the new head."""
        book = self.episodes
        scratch = Path(tempfile.mkdtemp(prefix="zk-ckpt-"))
        try:
            folder = scratch / "content"
            (folder / MODEL_DIR).mkdir(parents=True)
            book.agent.save(str(folder / MODEL_DIR))
            key, size = store_checkpoint(self.blobs, folder, book.harness_state(), checkpoint_prefix(book.instance_id))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.outbox.publish(
            ev.CheckpointSaved(
                book.instance_id,
                command_id=command.command_id,
                checkpoint_id=command.checkpoint_id,
                tag=command.tag,
                blob_key=key,
                parent_id=self.head,
                step=book.step_count,
                episode=book.episode,
                metrics=dict(book.metrics),
                size_bytes=size,
                keep=keep,
            )
        )
        self.head = command.checkpoint_id

    def save_scheduled(self, tag: str, keep: int) -> None:
        """A checkpoint the schedule asks for; a failed one is logged (the next one may work)."""
        command = cmd.SaveCheckpoint(self.episodes.instance_id, checkpoint_id=cmd.new_id()[:16], tag=tag)
        try:
            self.save(command, keep=keep)
        except Exception as exc:  # noqa: BLE001  # a failed save must not stop the run
            log.warning("scheduled checkpoint %s failed: %s", tag, describe(exc))

    def restore(self, blob_key: str, weights_changed: Callable[[], None]) -> dict[str, Any]:
        """Load a checkpoint into the AInimal and move the run to where it stood; returns its harness state."""
        scratch = Path(tempfile.mkdtemp(prefix="zk-restore-"))
        try:
            harness = fetch_checkpoint(self.blobs, blob_key, scratch)
            self.episodes.agent.load(str(scratch / MODEL_DIR))
            weights_changed()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.episodes.restore(harness)
        return harness

    def restored(self, command: cmd.RestoreCheckpoint) -> None:
        """The restore `command` asked for is done: it is the head now (CheckpointRestored)."""
        self.head = command.checkpoint_id
        book = self.episodes
        self.outbox.publish(
            ev.CheckpointRestored(
                book.instance_id,
                command_id=command.command_id,
                checkpoint_id=command.checkpoint_id,
                step=book.step_count,
                episode=book.episode,
            )
        )
