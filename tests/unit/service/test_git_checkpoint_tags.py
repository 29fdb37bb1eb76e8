"""Checkpoints as tags on the in-memory fakes: saves of a git-backed model commit and tag, launches at a tag.

The scripted worker saves each checkpoint into the in-memory blob store as a real worker does
(sdk/checkpoint_files.py); the model comes from an InMemoryModelHub playing a git-backed hub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from usecase_doubles import FakeCatalog, FakeChanges, ScriptedWorker

from ainimal_zookeeper.adapters.memory import FakeClock, InMemoryBus, InMemoryCompute, InMemoryDocumentStore
from ainimal_zookeeper.adapters.memory.blobs import InMemoryBlobStore
from ainimal_zookeeper.adapters.memory.model_hubs import InMemoryModelHub
from ainimal_zookeeper.auth.open_access import OpenAuthorizer
from ainimal_zookeeper.bootstrap.services import ServiceSettings, build_services
from ainimal_zookeeper.catalog.hub_entries import HubOrigin
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.event_origin import checkpoint_prefix
from ainimal_zookeeper.errors import Conflict, InvalidInput, Unavailable
from ainimal_zookeeper.ports.model_hubs import CHECKPOINT_DIR
from ainimal_zookeeper.sdk.checkpoint_files import fetch_checkpoint, store_checkpoint
from ainimal_zookeeper.service.launching import LaunchRequest
from ainimal_zookeeper.service.limits import Limits
from ainimal_zookeeper.service.projection import Projection
from ainimal_zookeeper.service.timeouts import Timeouts
from ainimal_zookeeper.service.zookeeper import Zookeeper

from contracts.model_hubs import MODEL_FILES

VIEWER = Viewer("ada", frozenset({"admin"}))
HARNESS = {"episode": 0, "metrics": {}, "rng": {"python": None}}


class SavingWorker(ScriptedWorker):
    """Saves a checkpoint (weights = its step count) into the blob store, as a worker does."""

    def __init__(self, bus: InMemoryBus, compute: InMemoryCompute, blobs: InMemoryBlobStore, tmp: Path) -> None:
        super().__init__(bus, compute)
        self.blobs, self.tmp = blobs, tmp
        self.saves = 0
        self.heads: dict[str, str | None] = {}

    def _apply(self, command: cmd.Command, outbox: Any) -> None:
        if isinstance(command, cmd.SaveCheckpoint):
            self.saves += 1
            folder = self.tmp / f"save-{command.checkpoint_id}"
            (folder / "model").mkdir(parents=True)
            (folder / "model" / "weights.txt").write_text(f"weights {self.saves}")
            step = 100 * self.saves
            key, size = store_checkpoint(
                self.blobs, folder, {**HARNESS, "step": step}, checkpoint_prefix(command.instance_id)
            )
            head = self.heads.get(command.instance_id, self.compute.spec(command.instance_id).checkpoint_id)
            outbox.publish(
                ev.CheckpointSaved(
                    command.instance_id,
                    command_id=command.command_id,
                    checkpoint_id=command.checkpoint_id,
                    tag=command.tag,
                    blob_key=key,
                    parent_id=head,
                    step=step,
                    size_bytes=size,
                )
            )
            self.heads[command.instance_id] = command.checkpoint_id
        super()._apply(command, outbox)


class GitZoo:
    def __init__(self, tmp: Path, git_backed: bool = True) -> None:
        self.hub = InMemoryModelHub(tmp / "cache", name="zoo", git_backed=git_backed)
        self.revision = self.hub.publish("Balancer", dict(MODEL_FILES))
        self.catalog = FakeCatalog()
        self.catalog.model_entry.origin = HubOrigin(self.hub, "Balancer", self.revision)
        self.catalog.model_entry.spec["source"] = "memory"
        clock = FakeClock()
        self.documents = InMemoryDocumentStore()
        self.bus, self.compute, self.blobs = InMemoryBus(clock), InMemoryCompute(clock), InMemoryBlobStore()
        changes = FakeChanges(clock)
        projection = Projection(self.documents, changes)  # type: ignore[arg-type]
        self.bus.subscribe(projection.apply)
        self.worker = SavingWorker(self.bus, self.compute, self.blobs, tmp)
        changes.on_wait.append(self.worker)
        settings = ServiceSettings(timeouts=Timeouts(), limits=Limits(), worker_connection={})
        self.services: Zookeeper = build_services(
            self.catalog,  # type: ignore[arg-type]
            self.documents,
            self.bus,
            self.compute,
            OpenAuthorizer(),
            changes,
            settings,
            events=self.bus,
            blobs=self.blobs,
            clock=clock,
            reaper_in_background=False,
        )

    def launch(self, **more: Any) -> str:
        request = LaunchRequest(model="Balancer", environment="CartPole", **more)
        return self.services.launching.launch(VIEWER, request).id

    def tree(self, tag: str) -> Path:
        return self.hub.fetch("Balancer", tag)


def test_a_save_of_a_git_backed_model_commits_its_files_on_the_models_revision_and_tags_it(tmp_path):
    zoo = GitZoo(tmp_path)
    instance = zoo.launch()
    saved = zoo.services.checkpoints.save(VIEWER, instance, "first")
    assert saved is not None and saved.git_tag == "first" and saved.git_pushed is True and saved.git_lfs is False
    assert zoo.hub.tags[("Balancer", "first")] == saved.git_commit
    assert zoo.hub.resolve_tag("Balancer", "first").parent == zoo.revision
    tree = zoo.tree("first")
    assert (tree / CHECKPOINT_DIR / "model" / "weights.txt").read_text() == "weights 1"
    assert json.loads((tree / CHECKPOINT_DIR / "zookeeper.json").read_text())["step"] == 100
    assert (tree / "pusher.py").read_text() == MODEL_FILES["pusher.py"]
    # The store keeps it too: restores read it from there.
    assert fetch_checkpoint(zoo.blobs, saved.blob_key, tmp_path / "back")["step"] == 100


def test_the_next_save_commits_on_the_previous_ones_commit_and_the_lineage_is_the_git_graph(tmp_path):
    zoo = GitZoo(tmp_path)
    instance = zoo.launch()
    first = zoo.services.checkpoints.save(VIEWER, instance, "a")
    second = zoo.services.checkpoints.save(VIEWER, instance, None)
    assert first is not None and second is not None
    assert second.git_tag == f"{instance}/step-200-{second.id[:8]}"
    assert zoo.hub.resolve_tag("Balancer", str(second.git_tag)).parent == first.git_commit
    assert second.parent == first.id


def test_a_bad_tag_name_saves_nothing_and_names_the_tag(tmp_path):
    zoo = GitZoo(tmp_path)
    instance = zoo.launch()
    with pytest.raises(InvalidInput, match=r"tag 'two words' is not a valid git tag name"):
        zoo.services.checkpoints.save(VIEWER, instance, "two words")
    assert zoo.worker.saves == 0


def test_an_existing_tag_is_a_conflict_and_the_checkpoint_stays_in_the_store(tmp_path):
    zoo = GitZoo(tmp_path)
    instance = zoo.launch()
    zoo.services.checkpoints.save(VIEWER, instance, "same")
    with pytest.raises(Conflict, match=r"is saved in the server's store, but not tagged: tag 'same' already exists"):
        zoo.services.checkpoints.save(VIEWER, instance, "same")
    kept = zoo.services.checkpoints.of_instance(instance)
    assert len(kept) == 2 and kept[1].git_tag is None and "already exists" in str(kept[1].git_error)
    assert fetch_checkpoint(zoo.blobs, kept[1].blob_key, tmp_path / "kept")["step"] == 200


def test_a_refused_push_says_which_hub_and_why_and_loses_nothing(tmp_path):
    zoo = GitZoo(tmp_path)
    instance = zoo.launch()
    zoo.hub.refuse_push = "pre-receive hook declined"
    with pytest.raises(Unavailable, match=r"memory:zoo refused tag 'x': pre-receive hook declined"):
        zoo.services.checkpoints.save(VIEWER, instance, "x")
    [kept] = zoo.services.checkpoints.of_instance(instance)
    assert kept.blob_key and "pre-receive hook declined" in str(kept.git_error)
    zoo.hub.refuse_push = None
    assert zoo.services.checkpoints.save(VIEWER, instance, "x") is not None  # the same tag, once allowed


def test_a_model_from_a_hub_that_is_not_git_backed_keeps_the_store_only(tmp_path):
    zoo = GitZoo(tmp_path, git_backed=False)
    instance = zoo.launch()
    saved = zoo.services.checkpoints.save(VIEWER, instance, "any tag at all")
    assert saved is not None and saved.git_tag is None and saved.tag == "any tag at all"
    assert zoo.hub.tags == {}
    with pytest.raises(InvalidInput, match="does not come from a git-backed hub"):
        zoo.launch(revision="main")


def test_a_launch_at_a_tag_starts_from_the_checkpoint_in_the_tagged_tree(tmp_path):
    zoo = GitZoo(tmp_path)
    first = zoo.services.checkpoints.save(VIEWER, zoo.launch(), "v1")
    assert first is not None
    relaunched = zoo.launch(revision="v1")
    spec = zoo.compute.spec(relaunched)
    head = zoo.services.checkpoints.checkpoint(VIEWER, str(spec.checkpoint_id))
    assert head is not None and head.instance == relaunched and head.git_commit == first.git_commit
    assert head.step == 100 and head.parent is None  # the tag commit's parent is the model's revision
    assert spec.checkpoint_blob_key == head.blob_key and spec.checkpoint_blob_key.startswith(
        checkpoint_prefix(relaunched)
    )
    folder = tmp_path / "loaded"
    assert fetch_checkpoint(zoo.blobs, spec.checkpoint_blob_key, folder)["step"] == 100
    assert (folder / "model" / "weights.txt").read_text() == "weights 1"
    assert Path(spec.model["path"]).parent == zoo.tree("v1").resolve()
    # Its next save commits on the tag's commit: the new checkpoint's parent is the launched one.
    after = zoo.services.checkpoints.save(VIEWER, relaunched, "v2")
    assert after is not None and after.parent == head.id
    assert zoo.hub.resolve_tag("Balancer", "v2").parent == first.git_commit


def test_a_launch_at_a_revision_with_a_checkpoint_too_is_refused(tmp_path):
    zoo = GitZoo(tmp_path)
    with pytest.raises(InvalidInput, match="checkpoint or revision, not both"):
        zoo.launch(revision="v1", checkpoint="abc")
