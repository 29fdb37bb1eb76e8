"""InMemoryModelHub: a ModelHub whose models are files held in memory, fetched into a cache folder."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, RevisionCache
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import CHECKPOINT_DIR, GitTag, HubModel


def revision_of(files: dict[str, str] | dict[str, str | bytes], parent: str | None = None) -> str:
    """A revision named after the files' content (like a commit: the same files, the same name)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        digest.update(f"{name}\0".encode() + (content if isinstance(content, bytes) else content.encode()) + b"\0")
    if parent is not None:  # a commit names its parent too
        digest.update(parent.encode())
    return digest.hexdigest()[:12]


class InMemoryModelHub:
    """Implements `ModelHub`: models as {file name: text}, every revision kept.

    `calls` counts what a remote hub would ask its server (listing, fetching a revision
    not cached); set `reachable = False` to make it fail as an unreachable hub does. With
    `git_backed=True` it also tags checkpoints as a git hub does (`GitTagging`): a revision per
    commit, with its parent, tags that name revisions, `refuse_push` to play a remote that refuses.
    """

    def __init__(
        self,
        cache_root: Path,
        models: dict[str, dict[str, str]] | None = None,
        name: str = "zoo",
        *,
        git_backed: bool = False,
        push: bool = True,
        bound: FetchBound | None = None,
    ) -> None:
        self.label = f"memory:{name}"
        self.git_backed, self.push = git_backed, push
        self.reachable = True
        self.refuse_push: str | None = None  # a reason: the next tag_and_push is refused with it
        self.calls = 0
        self._cache = RevisionCache(Path(cache_root), bound)
        self._revisions: dict[str, dict[str, dict[str, str | bytes]]] = {}
        self._parents: dict[str, str] = {}
        self.tags: dict[tuple[str, str], str] = {}  # (model, tag) -> revision
        self._latest: dict[str, str] = {}
        self._lock = threading.Lock()
        for model, files in (models or {}).items():
            self.publish(model, files)

    def publish(self, model: str, files: dict[str, str], description: str | None = None) -> str:
        """Add a revision of `model` holding `files` (it becomes the listed one); its revision."""
        revision = revision_of(files)
        with self._lock:
            self._revisions.setdefault(model, {})[revision] = dict[str, str | bytes](files)
            self._latest[model] = revision
        return revision

    def list_models(self) -> list[HubModel]:
        self._call()
        with self._lock:
            return [HubModel(model, revision, None) for model, revision in sorted(self._latest.items())]

    def fetch(self, model: str, revision: str | None = None) -> Path:
        with self._lock:
            revisions = self._revisions.get(model)
            revision = self.tags.get((model, revision or ""), revision) or self._latest.get(model)
        if revisions is None or revision is None:
            raise NotFound(f"model hub {self.label} has no model {model!r}")
        cached = self._cache.cached(model, revision)
        if cached is not None:
            return cached
        self._call()
        found = revisions.get(revision)
        if found is None:
            raise NotFound(f"model hub {self.label} has no revision {revision!r} of {model!r}")
        files: dict[str, str | bytes] = found

        def fill(folder: Path) -> None:
            for name, content in files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    (folder / name).write_bytes(content)
                else:
                    (folder / name).write_text(content)

        return self._cache.get_or_fill(model, revision, fill, f"model hub {self.label}")

    def _call(self) -> None:
        if not self.reachable:
            raise Unavailable(f"model hub {self.label}: it cannot be reached (set unreachable by the test)")
        with self._lock:
            self.calls += 1

    def tag_and_push(self, model: str, base: str, folder: Path, tag: str, message: str) -> GitTag:
        """A new revision: `base`'s files with `folder` as CHECKPOINT_DIR, tagged `tag`."""
        if not tag or len(tag) > 200 or any(c in tag for c in " ~^:?*[\\") or ".." in tag:
            raise InvalidInput(f"checkpoint tag {tag!r} is not a valid git tag name")
        self._call()
        with self._lock:
            files = self._revisions.get(model, {}).get(base)
            if files is None:
                raise NotFound(f"model hub {self.label} has no revision {base!r} of {model!r}")
            if (model, tag) in self.tags:
                raise Conflict(f"tag {tag!r} already exists in {self.label} (model {model!r}); choose another tag")
            if self.push and self.refuse_push:
                raise Unavailable(f"model hub {self.label} refused tag {tag!r}: {self.refuse_push}")
            tree = {k: v for k, v in files.items() if not k.startswith(f"{CHECKPOINT_DIR}/")}
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                tree[f"{CHECKPOINT_DIR}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
            commit = revision_of(tree, parent=base)
            self._revisions[model][commit] = tree
            self._parents[commit] = base
            self.tags[(model, tag)] = commit
        return GitTag(tag, commit, base, pushed=self.push, lfs=False)

    def resolve_tag(self, model: str, revision: str) -> GitTag:
        self._call()
        with self._lock:
            commit = self.tags.get((model, revision), revision)
            if commit not in self._revisions.get(model, {}):
                raise NotFound(f"model hub {self.label} has no tag or revision {revision!r} of {model!r}")
            return GitTag(revision, commit, self._parents.get(commit), pushed=self.push)
