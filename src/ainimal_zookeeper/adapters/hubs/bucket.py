"""What the bucket hubs share: each folder under the prefix is a model, its revision a digest of
its objects' names, versions and sizes (a bucket has no history: only the current revision can
be fetched, and a fetched revision stays in the cache)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.errors import NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import HubModel

#: Objects read from one listing, and files in one model (a request each; the bytes of a model
#: are bounded by the cache's `FetchBound`, checked against the listing before any download).
MAX_OBJECTS = 10_000
MAX_FILES_PER_MODEL = 1_000


@dataclass(frozen=True)
class BucketObject:
    """One object: its key, a version (generation or ETag) and its size."""

    key: str
    version: str
    size: int


class BucketHub:
    """A folder per model under `prefix`; subclasses list and download objects."""

    git_backed = False
    label: str

    def __init__(self, prefix: str, cache: RevisionCache, max_models: int = 50) -> None:
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.cache, self.max_models = cache, max_models

    # -- what a bucket client provides --
    def _list(self, prefix: str) -> Iterable[BucketObject]:
        raise NotImplementedError

    def _download(self, key: str, path: Path) -> None:
        raise NotImplementedError

    # -- the port --
    def list_models(self) -> list[HubModel]:
        folders: dict[str, list[BucketObject]] = {}
        for obj in self._bounded(self._list(self.prefix)):
            rest = obj.key[len(self.prefix) :]
            if "/" in rest:
                folders.setdefault(rest.split("/", 1)[0], []).append(obj)
        return [HubModel(name, _digest(objs), None) for name, objs in sorted(folders.items())[: self.max_models]]

    def fetch(self, model: str, revision: str | None = None) -> Path:
        if revision is not None:
            cached = self.cache.cached(model, revision)
            if cached is not None:
                return cached  # a revision already fetched: no request at all
        if not model or "/" in model or model in (".", ".."):
            raise NotFound(f"model hub {self.label} has no model {model!r}")
        folder = f"{self.prefix}{model}/"
        objects = list(self._bounded(self._list(folder)))
        if not objects:
            raise NotFound(f"model hub {self.label} has no model {model!r} (nothing under {folder})")
        current = _digest(objects)
        if revision is not None and revision != current:
            raise NotFound(
                f"model hub {self.label}: model {model!r} is no longer at revision {revision}; it is at {current}"
            )
        if len(objects) > MAX_FILES_PER_MODEL:
            raise Unavailable(f"model hub {self.label}: model {model!r} has more than {MAX_FILES_PER_MODEL} files")
        if self.cache.bound.exceeded(sum(o.size for o in objects), len(objects)):
            raise self.cache.bound.refusal(f"model hub {self.label}", model)

        def fill(target: Path) -> None:
            for obj in objects:
                relative = PurePosixPath(obj.key[len(folder) :])
                if not relative.parts or obj.key.endswith("/"):
                    continue  # a folder marker
                if relative.is_absolute() or ".." in relative.parts:
                    raise Unavailable(f"model hub {self.label}: object {obj.key!r} would land outside the model folder")
                path = target.joinpath(*relative.parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                self._download(obj.key, path)

        return self.cache.get_or_fill(model, current, fill, f"model hub {self.label}")

    def _bounded(self, objects: Iterable[BucketObject]) -> Iterable[BucketObject]:
        for count, obj in enumerate(objects):
            if count >= MAX_OBJECTS:
                raise Unavailable(f"model hub {self.label} holds more than {MAX_OBJECTS} objects under {self.prefix!r}")
            yield obj


def _digest(objects: list[BucketObject]) -> str:
    """A revision: the digest of the objects' keys, versions and sizes."""
    text = "\n".join(f"{o.key}\t{o.version}\t{o.size}" for o in sorted(objects, key=lambda o: o.key))
    return hashlib.sha256(text.encode()).hexdigest()[:20]
