"""ModelHub: a place models come from (a folder, a bucket, a git or Hugging Face repository)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class HubModel:
    """One model a hub offers: its name in the hub, the revision listed, a short description."""

    name: str
    revision: str
    description: str | None = None


class ModelHub(Protocol):
    """Lists a hub's models and fetches one model's folder at a revision into a local cache.

    `label` names the hub in messages and in the catalog's `source` ("git:file:///srv/zoo.git").
    Fetches are cached by revision: a second fetch of a revision already cached does no network
    work. Nothing fetched is unpickled here; loaders read only safe formats.

    Failures raise `ainimal_zookeeper.errors.Unavailable` (the hub cannot be reached: which hub
    and why) or `NotFound` (no such model or revision).

    Git-backed hubs (`git_backed` true: git, github, huggingface) also implement `GitTagging`:
    a checkpoint's files committed on the model's repository and tagged (pushed when the hub's
    `push` is set). A hub that cannot do it raises `Unavailable` from `tag_and_push` saying why.
    """

    label: str
    git_backed: bool

    def list_models(self) -> list[HubModel]:
        """The models the hub offers now (a bounded number), newest revision of each."""
        ...

    def fetch(self, model: str, revision: str | None = None) -> Path:
        """The local folder holding `model` at `revision` (the listed/default one if None)."""
        ...


#: Where a checkpoint's files sit in a tagged commit: `<CHECKPOINT_DIR>/model/` (the AInimal's
#: save folder) and `<CHECKPOINT_DIR>/zookeeper.json` (the harness state).
CHECKPOINT_DIR = "zookeeper-checkpoint"


@dataclass(frozen=True)
class GitTag:
    """A tag in a model's repository: its commit, that commit's first parent, and how it was made."""

    tag: str
    commit: str
    parent: str | None = None
    pushed: bool = False
    lfs: bool = False


class GitTagging(Protocol):
    """The checkpoint side of a git-backed hub (a `ModelHub` whose `git_backed` is true)."""

    label: str

    def tag_and_push(self, model: str, base: str, folder: Path, tag: str, message: str) -> GitTag:
        """Commit `folder` as CHECKPOINT_DIR on top of commit `base`, tag it, push the tag if allowed.

        No branch moves: only the tag (and the objects it needs) reaches the remote.

        Raises:
            InvalidInput: `tag` is not a valid git tag name.
            Conflict: the tag exists already (in the local clone or on the remote).
            Unavailable: the remote cannot be reached or refused the push (which hub and why).
        """
        ...

    def resolve_tag(self, model: str, revision: str) -> GitTag:
        """The commit (and its first parent) `revision` names in `model`'s repository."""
        ...
