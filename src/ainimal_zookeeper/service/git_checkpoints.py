"""Checkpoints as tags in a model's git graph, for models from git-backed hubs (git, github, huggingface).

After the worker saved a checkpoint into the server's store (which stays the copy restores
read), its files are committed on the model's repository through the hub (`GitTagging`):
`zookeeper-checkpoint/model/` (the AInimal's save folder) and `zookeeper-checkpoint/zookeeper.json`
(the harness state), on top of the commit the instance descends from, and tagged. The
checkpoint's parent is the checkpoint whose commit is the tag commit's parent: the git graph is
the lineage. A launch at a tag (`LaunchInput.revision`) loads the checkpoint found in the tagged
tree, even one pushed from elsewhere. Other models keep the content-addressed store only.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ainimal_zookeeper.catalog.catalog import Catalog, CatalogEntry
from ainimal_zookeeper.catalog.hub_entries import HubOrigin, read_model_folder
from ainimal_zookeeper.domain.event_origin import checkpoint_prefix
from ainimal_zookeeper.errors import InvalidInput, Unavailable, ZookeeperError
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.ports.model_hubs import CHECKPOINT_DIR, GitTag, GitTagging
from ainimal_zookeeper.sdk.checkpoint_files import HARNESS_FILE, MODEL_DIR, fetch_checkpoint, store_checkpoint
from ainimal_zookeeper.service.records import CHECKPOINTS, INSTANCES, Checkpoint, Instance, now_iso

log = logging.getLogger(__name__)

_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
#: A harness state larger than this is not a zookeeper checkpoint (it is a few numbers and RNG states).
MAX_HARNESS_BYTES = 16 << 20
#: Ancestors followed to find the commit an instance's checkpoints build on.
MAX_LINEAGE = 1000
_TAG_EXPECTED = "expected a git tag name such as 'v1' or 'run-3/step-1000' (no spaces, '..', '~^:?*[\\', '@{')"


def check_git_tag(tag: str) -> str:
    """The tag if it follows `git check-ref-format`'s rules for a tag name; InvalidInput otherwise."""
    bad = (
        not tag
        or len(tag) > 200
        or tag.startswith(("-", "/"))
        or tag.endswith(("/", "."))
        or tag == "@"
        or ".." in tag
        or "//" in tag
        or "@{" in tag
        or re.search(r"[\x00-\x20\x7f~^:?*\[\\]", tag) is not None
        or any(part.startswith(".") or part.endswith(".lock") for part in tag.split("/"))
    )
    if bad:
        raise InvalidInput(f"checkpoint tag {tag!r} is not a valid git tag name; {_TAG_EXPECTED}")
    return tag


@dataclass(frozen=True)
class TaggedLaunch:
    """A launch at a revision of a git-backed model: its entry there and the checkpoint it holds."""

    config: dict[str, Any]
    tag: GitTag
    folder: Path
    harness: dict[str, Any] | None  # None: the tree holds no checkpoint (the model as committed)
    checkpoint_id: str


class GitCheckpoints:
    """Tags checkpoints of git-backed models and launches them from tags."""

    def __init__(self, catalog: Catalog, documents: DocumentStore, blobs: BlobStore) -> None:
        self.catalog, self.documents, self.blobs = catalog, documents, blobs

    def origin(self, model: str) -> HubOrigin | None:
        """The git-backed hub `model` comes from; None for every other model."""
        entry = self.catalog.model(model)
        origin = entry.origin
        return origin if origin is not None and origin.hub.git_backed else None

    def tag_name(self, instance_id: str, tag: str | None) -> str | None:
        """The git tag a save with `tag` makes, checked before anything is saved; None for other models."""
        instance = self._instance(instance_id)
        if instance is None or self.origin(instance.model) is None:
            return None
        return check_git_tag(tag) if tag else None

    # --- saving ---

    def publish(self, checkpoint: Checkpoint, tag: str | None) -> Checkpoint:
        """Commit and tag a checkpoint the worker saved; the record gains gitTag / gitCommit.

        On failure the checkpoint stays in the store (its record says gitError) and the error
        says so, which hub, and why.
        """
        instance = self._instance(checkpoint.instance)
        origin = self.origin(instance.model) if instance is not None else None
        if instance is None or origin is None:
            return checkpoint
        name = tag or f"{instance.id}/step-{checkpoint.step}-{checkpoint.id[:8]}"
        base = self._base_commit(checkpoint, instance, origin)
        scratch = Path(tempfile.mkdtemp(prefix="zk-gitckpt-"))
        try:
            folder = scratch / "checkpoint"
            fetch_checkpoint(self.blobs, checkpoint.blob_key, folder)
            message = f"checkpoint {name}: instance {instance.id}, step {checkpoint.step}, episode {checkpoint.episode}"
            made = cast(GitTagging, origin.hub).tag_and_push(origin.model, base, folder, name, message)
        except OSError as exc:  # the scratch copy (a full disk ...): the stored checkpoint is unaffected
            why = Unavailable(f"model hub {origin.hub.label}: could not write the checkpoint's files: {exc.strerror}")
            self.documents.update(CHECKPOINTS, checkpoint.id, {"gitError": str(why)})
            raise Unavailable(
                f"checkpoint {checkpoint.id} is saved in the server's store, but not tagged: {why}"
            ) from None
        except ZookeeperError as exc:
            self.documents.update(CHECKPOINTS, checkpoint.id, {"gitError": str(exc)})
            log.warning("checkpoint %s is saved in the store but not tagged in git: %s", checkpoint.id, exc)
            raise type(exc)(
                f"checkpoint {checkpoint.id} is saved in the server's store, but not tagged: {exc}"
            ) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        how = "git LFS" if made.lfs else "plain git"
        log.info(
            "checkpoint %s tagged %s at %s in %s (%s, %s)",
            checkpoint.id,
            made.tag,
            made.commit,
            origin.hub.label,
            how,
            "pushed" if made.pushed else "kept in the zookeeper's clone",
        )
        fields: dict[str, Any] = {"gitTag": made.tag, "gitCommit": made.commit, "gitPushed": made.pushed}
        fields["gitLfs"] = made.lfs
        parent = self._checkpoint_at(made.parent, prefer=checkpoint.parent)
        if parent is not None:
            fields["parent"] = parent
        self.documents.update(CHECKPOINTS, checkpoint.id, fields)
        doc = self.documents.get(CHECKPOINTS, checkpoint.id)
        return Checkpoint.from_document(doc) if doc is not None else checkpoint

    def _base_commit(self, checkpoint: Checkpoint, instance: Instance, origin: HubOrigin) -> str:
        """The commit the instance stands on: its newest tagged ancestor's, else the one it launched at."""
        seen: set[str] = set()
        ancestor = checkpoint.parent
        while ancestor and ancestor not in seen and len(seen) < MAX_LINEAGE:
            seen.add(ancestor)
            doc = self.documents.get(CHECKPOINTS, ancestor) or {}
            if doc.get("gitCommit"):
                return str(doc["gitCommit"])
            ancestor = doc.get("parent")
        launched_at = instance.extra.get("gitBase")
        return str(launched_at) if launched_at else origin.revision

    def _checkpoint_at(self, commit: str | None, prefer: str | None) -> str | None:
        """The checkpoint whose commit is `commit` (`prefer` when it is one of them)."""
        if not commit:
            return None
        found = [str(d["id"]) for d in self.documents.find(CHECKPOINTS, [("gitCommit", "==", commit)])]
        if prefer in found:
            return prefer
        return found[0] if found else None

    # --- launching at a tag ---

    def at_revision(self, model: CatalogEntry, revision: str) -> TaggedLaunch:
        """The model's entry at `revision` of its repository, and the checkpoint its tree holds.

        Raises:
            InvalidInput: the model is not from a git-backed hub, or the revision is malformed
                or holds a checkpoint that cannot be read.
            NotFound / Unavailable: the hub has no such revision, or cannot be reached.
        """
        if not _REVISION.match(revision) or ".." in revision:
            raise InvalidInput(f"revision {revision!r} is not a branch, tag or commit name")
        origin = model.origin
        if origin is None or not origin.hub.git_backed:
            raise InvalidInput(
                f"model {model.name!r} does not come from a git-backed hub (git, github, huggingface); "
                "launch it without revision, or from a checkpoint"
            )
        tag = cast(GitTagging, origin.hub).resolve_tag(origin.model, revision)
        folder = origin.hub.fetch(origin.model, tag.commit)
        models, _ = read_model_folder(folder, origin.model, None)
        config = next((m for m in models if m["name"] == model.name), models[0] if models else None)
        if config is None:
            raise InvalidInput(f"model {model.name!r} at {revision!r} has no ainimal.yaml nor AInimal class")
        return TaggedLaunch(
            config={**config, "name": model.name},
            tag=tag,
            folder=folder,
            harness=_read_harness(folder / CHECKPOINT_DIR, model.name, revision),
            checkpoint_id=uuid.uuid4().hex[:16],
        )

    def import_checkpoint(self, tagged: TaggedLaunch, instance: Instance) -> Checkpoint | None:
        """Store the tagged tree's checkpoint for `instance` (the worker loads it like any); its record."""
        self.documents.update(INSTANCES, instance.id, {"gitBase": tagged.tag.commit})
        if tagged.harness is None:
            return None
        scratch = Path(tempfile.mkdtemp(prefix="zk-gitlaunch-"))
        try:
            folder = scratch / "content"
            source = tagged.folder / CHECKPOINT_DIR / MODEL_DIR
            if source.is_dir():
                shutil.copytree(source, folder / MODEL_DIR, symlinks=False)
            else:
                (folder / MODEL_DIR).mkdir(parents=True)
            key, size = store_checkpoint(self.blobs, folder, tagged.harness, checkpoint_prefix(instance.id))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        record = Checkpoint(
            id=tagged.checkpoint_id,
            instance=instance.id,
            blob_key=key,
            step=int(tagged.harness.get("step") or 0),
            episode=int(tagged.harness.get("episode") or 0),
            tag=tagged.tag.tag,
            parent=self._checkpoint_at(tagged.tag.parent, prefer=None),
            model=instance.model,
            created_at=now_iso(),
            metrics=dict(tagged.harness.get("metrics") or {}),
            size_bytes=size,
            git_tag=tagged.tag.tag,
            git_commit=tagged.tag.commit,
            git_pushed=tagged.tag.pushed,
        )
        self.documents.put(CHECKPOINTS, record.id, record.to_document())
        return record

    def _instance(self, instance_id: str) -> Instance | None:
        doc = self.documents.get(INSTANCES, instance_id)
        return Instance.from_document(doc) if doc is not None else None


def _read_harness(checkpoint: Path, model: str, revision: str) -> dict[str, Any] | None:
    """The harness state of a tree's checkpoint folder; None when the tree holds none."""
    path = checkpoint / HARNESS_FILE
    if not path.is_file():
        return None
    where = f"model {model!r} at {revision!r}: {CHECKPOINT_DIR}/{HARNESS_FILE}"
    if path.stat().st_size > MAX_HARNESS_BYTES:
        raise InvalidInput(f"{where} is larger than {MAX_HARNESS_BYTES} bytes; expected a zookeeper harness state")
    try:
        harness = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{where} is not JSON: {exc}") from None
    if not isinstance(harness, dict) or not isinstance(harness.get("step"), int) or "rng" not in harness:
        raise InvalidInput(f"{where} is not a zookeeper harness state (expected step, episode, rng, ...)")
    return harness
