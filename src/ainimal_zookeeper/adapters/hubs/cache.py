"""A folder per hub / model / revision under the data folder: a revision is fetched once, and
never more of it than the hub's bound (`FetchBound`)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ainimal_zookeeper.errors import Unavailable

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

#: What one fetch may write unless the hub's settings say otherwise (`max_model_mb`).
DEFAULT_MAX_MODEL_BYTES = 4 << 30
#: Files one fetch may write (a model's files; for a git hub, its clone's too).
MAX_MODEL_FILES = 20_000


def safe_part(text: str) -> str:
    """A file-name-safe, collision-free form of `text` (a readable stem plus a short hash)."""
    stem = _SAFE.sub("_", text).strip("._")[:60] or "x"
    return f"{stem}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def usage(folder: Path) -> tuple[int, int]:
    """(bytes, files) under `folder`, symbolic links counted as files and not followed; a file
    that vanishes while it is counted (a fetch moving its temporary files) is skipped."""
    total, files = 0, 0
    pending = [str(folder)]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                        continue
                    total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
                files += 1
    return total, files


class ModelTooLarge(Unavailable):
    """A hub's model is larger than the hub's `FetchBound`: nothing of it was kept."""

    passing = False  # the same revision stays as large: fetching it again only costs the download


@dataclass(frozen=True)
class FetchBound:
    """The most one fetch of a model at a revision may write: a hub serving more is refused.

    The hubs check it before they download where the backend says sizes first (a bucket's
    listing, the Hugging Face Hub's file sizes), while they download where it does not (git
    is stopped once its clone grows past it), and the cache checks the fetched folder again
    before it keeps it, so a backend that said too little is caught too.
    """

    max_bytes: int = DEFAULT_MAX_MODEL_BYTES
    max_files: int = MAX_MODEL_FILES

    def describe(self) -> str:
        """The bound as a reader wants it (\"4096 MB and 20000 files\")."""
        megabytes = self.max_bytes / (1 << 20)
        size = f"{megabytes:.0f} MB" if megabytes >= 1 else f"{self.max_bytes} bytes"
        return f"{size} and {self.max_files} files"

    def exceeded(self, size: int, files: int) -> bool:
        return size > self.max_bytes or files > self.max_files

    def refusal(self, what: str, model: str) -> ModelTooLarge:
        """The error of a model over the bound (`what`: which hub, as "model hub git:...")."""
        return ModelTooLarge(
            f"{what}: model {model!r} is larger than this hub allows ({self.describe()}; the hub's "
            "max_model_mb setting), so it was not fetched"
        )

    def check(self, folder: Path, what: str, model: str) -> None:
        """Raise the refusal when `folder` holds more than the bound."""
        if self.exceeded(*usage(folder)):
            raise self.refusal(what, model)


#: Revisions of one model kept in the cache: older ones go when a newer one is fetched.
KEEP_REVISIONS = 3


class RevisionCache:
    """Fetched model folders kept by revision; filled atomically (a temp folder, then a rename),
    and only when what was fetched fits in `bound`.

    A server left running fetches each new revision its hubs list, so only the `keep` most
    recently fetched revisions of a model stay; an older one asked for again is fetched again.
    """

    def __init__(self, root: Path, bound: FetchBound | None = None, keep: int = KEEP_REVISIONS) -> None:
        self.root = root
        self.bound = bound or FetchBound()
        self.keep = keep
        self._lock = threading.Lock()
        self._locks: dict[Path, threading.Lock] = {}

    def folder(self, model: str, revision: str) -> Path:
        """Where `model` at `revision` is (or would be) kept."""
        return self.root / safe_part(model) / safe_part(revision)

    def cached(self, model: str, revision: str) -> Path | None:
        """The cached folder, or None when this revision was never fetched."""
        folder = self.folder(model, revision)
        return folder if folder.is_dir() else None

    def get_or_fill(self, model: str, revision: str, fill: Callable[[Path], None], what: str = "model hub") -> Path:
        """The cached folder, filling it first with `fill(empty_folder)` when missing.

        Two threads fetching the same revision fetch it once; a fill that raises, or that
        wrote more than the bound, leaves nothing (`what` names the hub in that error).
        """
        folder = self.folder(model, revision)
        with self._lock:
            lock = self._locks.setdefault(folder, threading.Lock())
        with lock:
            if folder.is_dir():
                return folder
            folder.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder.parent))
            try:
                target = work / "model"
                target.mkdir()
                fill(target)
                self.bound.check(target, what, model)
                target.rename(folder)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            self._forget_old_revisions(folder)
            return folder

    def _forget_old_revisions(self, newest: Path) -> None:
        """Remove the model's revisions beyond the `keep` most recently fetched (`newest` stays)."""
        revisions = [p for p in newest.parent.iterdir() if p.is_dir() and not p.name.startswith(".fetch-")]
        revisions.sort(key=lambda p: (p == newest, _fetched_at(p)), reverse=True)
        for old in revisions[self.keep :]:
            with self._lock:
                lock = self._locks.get(old)
                if lock is not None and lock.locked():
                    continue  # being fetched again right now: it stays
                self._locks.pop(old, None)
            shutil.rmtree(old, ignore_errors=True)


def _fetched_at(folder: Path) -> float:
    """When a revision's folder was filled; 0 for one another thread removed meanwhile."""
    try:
        return folder.stat().st_mtime
    except OSError:
        return 0.0
