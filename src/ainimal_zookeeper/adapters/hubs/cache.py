"""A folder per hub / model / revision under the data folder: a revision is fetched once."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_part(text: str) -> str:
    """A file-name-safe, collision-free form of `text` (a readable stem plus a short hash)."""
    stem = _SAFE.sub("_", text).strip("._")[:60] or "x"
    return f"{stem}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


class RevisionCache:
    """Fetched model folders kept by revision; filled atomically (a temp folder, then a rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._locks: dict[Path, threading.Lock] = {}

    def folder(self, model: str, revision: str) -> Path:
        """Where `model` at `revision` is (or would be) kept."""
        return self.root / safe_part(model) / safe_part(revision)

    def cached(self, model: str, revision: str) -> Path | None:
        """The cached folder, or None when this revision was never fetched."""
        folder = self.folder(model, revision)
        return folder if folder.is_dir() else None

    def get_or_fill(self, model: str, revision: str, fill: Callable[[Path], None]) -> Path:
        """The cached folder, filling it first with `fill(empty_folder)` when missing.

        Two threads fetching the same revision fetch it once; a fill that raises leaves nothing.
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
                target.rename(folder)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            return folder
