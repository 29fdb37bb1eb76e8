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

    Git-backed hubs (`git_backed` true: git, github, huggingface) are meant to also offer
    `tag_and_push(model, folder, tag, message) -> str`, committing a checkpoint folder on the
    model's repository, tagging it and pushing when the hub allows; NOT YET IMPLEMENTED by any
    adapter, so callers must not expect it.
    """

    label: str
    git_backed: bool

    def list_models(self) -> list[HubModel]:
        """The models the hub offers now (a bounded number), newest revision of each."""
        ...

    def fetch(self, model: str, revision: str | None = None) -> Path:
        """The local folder holding `model` at `revision` (the listed/default one if None)."""
        ...
