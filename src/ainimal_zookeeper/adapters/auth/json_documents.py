"""A DocumentStore in one JSON file: users and grants kept in a JSON file instead of a database.

The file is `{collection: {doc_id: document}}`, readable and hand-editable by an operator:

    {"roles":  {"alice": {"username": "alice", "roles": ["admin"]}},
     "grants": {"g1": {"subject": "bob", "kind": "model", "resource": "cartpole", "actions": ["launch"]}}}

Writes replace the file atomically (write a sibling, fsync, rename) with mode 0600, since it may
hold password hashes. Hand edits are picked up: the file is re-read when it changes on disk.
A transaction works on a copy and writes once, so a failed one leaves nothing behind; an
advisory lock file keeps several processes on one file from losing each other's writes.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput, NotFound
from ainimal_zookeeper.ports.documents import DocumentStore, Where

try:  # POSIX only; elsewhere the in-process lock is all there is.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["JsonFileDocumentStore"]

T = TypeVar("T")
Data = dict[str, dict[str, dict[str, Any]]]


def _check_field(name: str) -> str:
    # The SQLite adapter refuses these too; keeping the same rule keeps the adapters swappable.
    if not name.replace("_", "").isalnum():
        raise InvalidInput(f"document field names are letters, digits and '_', got {name!r}")
    return name


def _stamp(stat: os.stat_result) -> tuple[int, ...]:
    # Every write replaces the file, so the inode changes too, not only the times and size.
    return (stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)


class _Collections:
    """DocumentStore operations over an in-memory `Data` dict (the working copy of a transaction)."""

    def __init__(self, data: Data) -> None:
        self.data = data

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        doc = self.data.get(collection, {}).get(doc_id)
        return copy.deepcopy(doc) if doc is not None else None

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        if doc_id in self.data.get(collection, {}):
            raise Conflict(f"{collection}/{doc_id} exists already")
        self.put(collection, doc_id, doc)

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.data.setdefault(collection, {})[doc_id] = json.loads(json.dumps(doc))

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        doc = self.get(collection, doc_id)
        if doc is None:
            raise NotFound(f"{collection}/{doc_id} does not exist")
        doc.update(fields)
        self.put(collection, doc_id, doc)
        return doc

    def delete(self, collection: str, doc_id: str) -> None:
        self.data.get(collection, {}).pop(doc_id, None)

    def find(
        self,
        collection: str,
        where: Sequence[Where] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        docs = list(self.data.get(collection, {}).values())
        for name, op, value in where:
            _check_field(name)
            if op == "==":
                docs = [d for d in docs if d.get(name) == value]
            elif op == "in":
                allowed = list(value)
                docs = [d for d in docs if d.get(name) in allowed]
            else:
                raise InvalidInput(f"where clause operator must be '==' or 'in', got {op!r}")
        if order_by:
            _check_field(order_by)
            # Missing values first, as SQLite orders NULL.
            docs.sort(key=lambda d: (d.get(order_by) is not None, d.get(order_by)))
        return copy.deepcopy(docs[:limit] if limit is not None else docs)

    def run_in_transaction(self, work: Callable[[DocumentStore], T]) -> T:
        return work(self)  # already inside the outer transaction

    def close(self) -> None:
        pass


class JsonFileDocumentStore:
    """Documents in one JSON file, safe across threads (and processes, on POSIX)."""

    def __init__(self, path: Path | str) -> None:
        """Use `path`, created (with its folder) on the first write if it does not exist."""
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._data: Data = {}
        self._stamp: tuple[int, ...] | None = None

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            return _Collections(self._load()).get(collection, doc_id)

    def find(
        self,
        collection: str,
        where: Sequence[Where] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            return _Collections(self._load()).find(collection, where, order_by, limit)

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.run_in_transaction(lambda tx: tx.create(collection, doc_id, doc))

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.run_in_transaction(lambda tx: tx.put(collection, doc_id, doc))

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.run_in_transaction(lambda tx: tx.update(collection, doc_id, fields))

    def delete(self, collection: str, doc_id: str) -> None:
        self.run_in_transaction(lambda tx: tx.delete(collection, doc_id))

    def run_in_transaction(self, work: Callable[[DocumentStore], T]) -> T:
        with self._lock, self._file_lock():
            # Re-read under the file lock whatever the stamp says: coarse file timestamps could
            # hide another process's write, and a write must never be based on a stale copy.
            working = copy.deepcopy(self._load(force=True))
            result = work(_Collections(working))
            if working != self._data:
                self._save(working)
            return result

    def close(self) -> None:
        pass

    def _load(self, force: bool = False) -> Data:
        """The file's contents, re-read when it changed on disk (hand edits, other processes)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._data, self._stamp = {}, None
            return self._data
        stamp = _stamp(stat)
        if force or stamp != self._stamp:
            self._data = self._parse(self.path.read_text(encoding="utf-8"))
            self._stamp = stamp
        return self._data

    def _parse(self, text: str) -> Data:
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{self.path} is not valid JSON (line {exc.lineno}, column {exc.colno}): fix it or move it away"
            ) from None
        if not isinstance(data, dict) or not all(
            isinstance(docs, dict) and all(isinstance(doc, dict) for doc in docs.values()) for docs in data.values()
        ):
            raise ConfigError(f"{self.path} must hold {{collection: {{id: document}}}} objects")
        return data

    def _save(self, data: Data) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        self._data = data
        self._stamp = _stamp(self.path.stat())

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An advisory lock on a sibling file, so processes sharing the file write one at a time."""
        if fcntl is None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
