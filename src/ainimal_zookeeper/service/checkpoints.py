"""Checkpoints: look them up, save one from a running instance, restore one into it."""

from __future__ import annotations

import uuid

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.service.command_sender import CommandSender
from ainimal_zookeeper.service.git_checkpoints import GitCheckpoints
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.records import Checkpoint, Instance
from ainimal_zookeeper.service.repository import CheckpointRepository, InstanceRepository


class CheckpointService:
    """`checkpoint`, `Instance.checkpoints`, `saveCheckpoint` and `restoreCheckpoint`."""

    def __init__(
        self,
        catalog: Catalog,
        access: InstanceAccess,
        instances: InstanceRepository,
        checkpoints: CheckpointRepository,
        sender: CommandSender,
        timeout: float = 120.0,
        git: GitCheckpoints | None = None,
    ) -> None:
        self.catalog, self.access, self.instances, self.checkpoints = catalog, access, instances, checkpoints
        self.sender, self.timeout = sender, timeout
        self.git = git  # models from git-backed hubs: each save is also a tag in the model's repository

    def checkpoint(self, viewer: Viewer, checkpoint_id: str) -> Checkpoint | None:
        """A checkpoint of an instance the viewer may inspect; None otherwise (hidden looks missing)."""
        return self.access.checkpoint(viewer, checkpoint_id)

    def of_instance(self, instance_id: str) -> list[Checkpoint]:
        """An instance's checkpoints, oldest first (the caller has checked the viewer may inspect it)."""
        return self.checkpoints.of_instance(instance_id)

    def save(self, viewer: Viewer, instance_id: str, tag: str | None) -> Checkpoint | None:
        """Save now; the checkpoint as the projection stored it (None if it is not there yet)."""
        found = self.access.controllable(viewer, instance_id, "checkpoint", "checkpoint")
        model = self.catalog.model(found.model)
        if not model.spec.get("checkpointable"):
            raise InvalidInput(f"model {model.name!r} cannot be checkpointed: it has no save() and load()")
        tag = (tag or "").strip()
        git_tag = self.git.tag_name(instance_id, tag) if self.git else None  # a bad tag saves nothing
        command = cmd.SaveCheckpoint(instance_id, checkpoint_id=uuid.uuid4().hex[:16], tag=tag)
        self.sender.send_and_wait(command, self.timeout)
        saved = self.checkpoints.get(command.checkpoint_id)
        if saved is not None and self.git is not None:
            saved = self.git.publish(saved, git_tag)
        return saved

    def restore(self, viewer: Viewer, instance_id: str, checkpoint_id: str) -> Instance:
        found = self.access.controllable(viewer, instance_id, "checkpoint", "restore a checkpoint into")
        checkpoint = self.access.checkpoint_of_model(viewer, checkpoint_id, found.model)
        command = cmd.RestoreCheckpoint(instance_id, checkpoint_id=checkpoint.id, blob_key=checkpoint.blob_key)
        self.sender.send_and_wait(command, self.timeout)
        return self.instances.require(instance_id)
