"""DocumentStore on SQLite: the embedded default's state, surviving server restarts."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound
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
        self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)
        self._conn.execute(_INSTANCE_INDEX)
        self._in_transaction = False

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT body FROM documents WHERE collection=? AND id=?", (collection, doc_id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT INTO documents(collection, id, body) VALUES (?, ?, ?)",
                    (collection, doc_id, json.dumps(doc)),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"{collection}/{doc_id} exists already") from exc

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        with self._lock:
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
        with self._lock:
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
        with self._lock:
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
    def _write(self) -> Iterator[None]:
        """Hold the lock inside one SQLite write transaction (nested calls join it)."""
        with self._lock:
            if self._in_transaction:
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._in_transaction = False
