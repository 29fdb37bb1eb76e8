"""DocumentStore on SQLite: the embedded default's state, surviving server restarts."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ainimal_zookeeper.adapters.local.storage_errors import from_sqlite
from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput, NotFound
from ainimal_zookeeper.ports.documents import DocumentStore, Where

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, id)
)
"""
#: Most look-ups name an instance (its checkpoints, metric chunks, log chunks, overrides):
#: without this index each one read every document of its collection, and with many instances
#: the metric history's compaction took most of the server's time.
_INSTANCE_INDEX = (
    "CREATE INDEX IF NOT EXISTS documents_by_instance ON documents(collection, json_extract(body, '$.instance'))"
)


def _field_sql(name: str) -> str:
    # Field names reach SQL text, so only plain identifiers are allowed in them.
    if not name.replace("_", "").isalnum():
        raise InvalidInput(f"document field names are letters, digits and '_', got {name!r}")
    return f"json_extract(body, '$.{name}')"


class SqliteDocumentStore:
    """Documents as JSON rows in one SQLite file (WAL mode), safe across threads.

    One connection behind a re-entrant lock: SQLite serialises writers anyway, and the
    lock makes `run_in_transaction` atomic with respect to every other call.
    """

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._lock = threading.RLock()
        self._in_transaction = False
        _check_files(Path(self._path))
        try:
            self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
            self._conn.execute(_INSTANCE_INDEX)
            # A real write at start: a database that cannot be written is refused here, with its
            # path, rather than failing every launch later.
            self._conn.execute("INSERT OR REPLACE INTO documents VALUES ('_storage', 'probe', '{}')")
            self._conn.execute("DELETE FROM documents WHERE collection='_storage'")
        except sqlite3.Error as exc:
            raise ConfigError(
                f"the database {self._path} cannot be opened for writing ({exc}): make its folder and "
                "files writable by the server's user, free some disk space, or point --data elsewhere"
            ) from exc

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock, self._guard("read the server's state"):
            row = self._conn.execute(
                "SELECT body FROM documents WHERE collection=? AND id=?", (collection, doc_id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        with self._lock, self._guard("save the server's state"):
            try:
                self._conn.execute(
                    "INSERT INTO documents(collection, id, body) VALUES (?, ?, ?)",
                    (collection, doc_id, json.dumps(doc)),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"{collection}/{doc_id} exists already") from exc

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        with self._lock, self._guard("save the server's state"):
            self._conn.execute(
                "INSERT OR REPLACE INTO documents(collection, id, body) VALUES (?, ?, ?)",
                (collection, doc_id, json.dumps(doc)),
            )

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self._write():
            doc = self.get(collection, doc_id)
            if doc is None:
                raise NotFound(f"{collection}/{doc_id} does not exist")
            doc.update(fields)
            self.put(collection, doc_id, doc)
            return doc

    def delete(self, collection: str, doc_id: str) -> None:
        with self._lock, self._guard("save the server's state"):
            self._conn.execute("DELETE FROM documents WHERE collection=? AND id=?", (collection, doc_id))

    def find(
        self,
        collection: str,
        where: Sequence[Where] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        sql, args = self._select(collection, where)
        if order_by:
            sql += f" ORDER BY {_field_sql(order_by)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock, self._guard("read the server's state"):
            rows = self._conn.execute(sql, args).fetchall()
        return [json.loads(body) for (body,) in rows]

    def run_in_transaction(self, work: Callable[[DocumentStore], T]) -> T:
        with self._write():
            return work(self)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @staticmethod
    def _select(collection: str, where: Sequence[Where]) -> tuple[str, list[Any]]:
        sql = "SELECT body FROM documents WHERE collection=?"
        args: list[Any] = [collection]
        for name, op, value in where:
            if op == "==":
                sql += f" AND {_field_sql(name)} = ?"
                args.append(value)
            elif op == "in":
                values = list(value)
                if not values:
                    return sql + " AND 0", args
                sql += f" AND {_field_sql(name)} IN ({','.join('?' * len(values))})"
                args.extend(values)
            else:
                raise InvalidInput(f"where clause operator must be '==' or 'in', got {op!r}")
        return sql, args

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Turn SQLite's failures (disk full, read-only, I/O error) into `StorageUnavailable`."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise  # a constraint, not the storage: `create` turns it into Conflict
        except sqlite3.Error as exc:
            raise from_sqlite(exc, what) from None

    @contextmanager
    def _write(self) -> Iterator[None]:
        """Hold the lock inside one SQLite write transaction (nested calls join it)."""
        with self._lock:
            if self._in_transaction:
                yield
                return
            with self._guard("save the server's state"):
                self._conn.execute("BEGIN IMMEDIATE")
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    with self._guard("save the server's state"):
                        self._conn.execute("COMMIT")
                except BaseException:
                    self._rollback()  # a failed COMMIT may leave the transaction open
                    raise
            finally:
                self._in_transaction = False

    def _rollback(self) -> None:
        # After an I/O error SQLite may have rolled back already; the next call must start clean.
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the store is already failing; the error being raised says so


def _check_files(path: Path) -> None:
    """Refuse a data folder or database files the server cannot write, with the fix.

    SQLite maps the `-shm` file into memory in WAL mode: one that is not a writable regular file
    could kill the process when touched, so it is checked before SQLite opens it.
    """
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"the data folder {folder} is not a writable folder: create it or make it writable")
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and (not file.is_file() or not os.access(file, os.R_OK | os.W_OK)):
            raise ConfigError(
                f"{file} is not a regular file the server can read and write: fix its permissions "
                "(or remove it while the server is stopped)"
            )
