"""InMemoryModelHub: a ModelHub whose models are files held in memory, fetched into a cache folder."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.errors import NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import HubModel


def revision_of(files: dict[str, str]) -> str:
    """A revision named after the files' content (like a commit: the same files, the same name)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name]}\0".encode())
    return digest.hexdigest()[:12]


class InMemoryModelHub:
    """Implements `ModelHub`: models as {file name: text}, every revision kept.

    `calls` counts what a remote hub would ask its server (listing, fetching a revision
    not cached); set `reachable = False` to make it fail as an unreachable hub does.
    """

    git_backed = False

    def __init__(self, cache_root: Path, models: dict[str, dict[str, str]] | None = None, name: str = "zoo") -> None:
        self.label = f"memory:{name}"
        self.reachable = True
        self.calls = 0
        self._cache = RevisionCache(Path(cache_root))
        self._revisions: dict[str, dict[str, dict[str, str]]] = {}
        self._latest: dict[str, str] = {}
        self._lock = threading.Lock()
        for model, files in (models or {}).items():
            self.publish(model, files)

    def publish(self, model: str, files: dict[str, str], description: str | None = None) -> str:
        """Add a revision of `model` holding `files` (it becomes the listed one); its revision."""
        revision = revision_of(files)
        with self._lock:
            self._revisions.setdefault(model, {})[revision] = dict(files)
            self._latest[model] = revision
        return revision

    def list_models(self) -> list[HubModel]:
        self._call()
        with self._lock:
            return [HubModel(model, revision, None) for model, revision in sorted(self._latest.items())]

    def fetch(self, model: str, revision: str | None = None) -> Path:
        with self._lock:
            revisions = self._revisions.get(model)
            revision = revision or self._latest.get(model)
        if revisions is None or revision is None:
            raise NotFound(f"model hub {self.label} has no model {model!r}")
        cached = self._cache.cached(model, revision)
        if cached is not None:
            return cached
        self._call()
        found = revisions.get(revision)
        if found is None:
            raise NotFound(f"model hub {self.label} has no revision {revision!r} of {model!r}")
        files: dict[str, str] = found

        def fill(folder: Path) -> None:
            for name, text in files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_text(text)

        return self._cache.get_or_fill(model, revision, fill)

    def _call(self) -> None:
        if not self.reachable:
            raise Unavailable(f"model hub {self.label}: it cannot be reached (set unreachable by the test)")
        with self._lock:
            self.calls += 1
