"""InMemoryDocumentStore: the DocumentStore in a dict, with the SQLite adapter's semantics."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound
from ainimal_zookeeper.ports.documents import DocumentStore, Where

T = TypeVar("T")

#: A document as a query sees a field of it (SQLite's json_extract): a comparable scalar.
_Scalar = int | float | str | None


def _check_field(name: str) -> None:
    # Same rule as the SQLite adapter (where names reach SQL), so code that passes here passes there.
    if not name.replace("_", "").isalnum():
        raise InvalidInput(f"document field names are letters, digits and '_', got {name!r}")


def _scalar(value: Any) -> _Scalar:
    """A JSON value as SQLite's json_extract gives it: booleans as 0/1, objects and arrays as text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value  # type: ignore[no-any-return]  # None, a number or a string


def _order_key(value: _Scalar) -> tuple[int, Any]:
    # SQLite orders NULL first, then numbers, then text.
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, value)


class InMemoryDocumentStore:
    """Documents kept as JSON text per collection, safe across threads.

    Like `SqliteDocumentStore`: one re-entrant lock makes `run_in_transaction` atomic against
    every other call, a failed transaction leaves nothing behind, documents are copies (JSON
    in, JSON out), `find` returns documents in id order unless ordered by a field (missing or
    null first), and a clause `== None` matches nothing (SQL's NULL).
    """

    def __init__(self, retry_transactions: bool = False) -> None:
        """`retry_transactions`: run each transaction's work twice, discarding the first run, as
        Firestore does under contention; work with side effects outside the store shows up."""
        self.retry_transactions = retry_transactions
        self._collections: dict[str, dict[str, str]] = {}
        self._lock = threading.RLock()
        self._in_transaction = False
        self._retrying = False
        #: How many transactions committed, rolled back and were retried (for tests).
        self.commits = 0
        self.rollbacks = 0
        self.retries = 0

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            body = self._collections.get(collection, {}).get(doc_id)
        return json.loads(body) if body is not None else None

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        body = json.dumps(doc)
        with self._lock:
            docs = self._collections.setdefault(collection, {})
            if doc_id in docs:
                raise Conflict(f"{collection}/{doc_id} exists already")
            docs[doc_id] = body

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        body = json.dumps(doc)
        with self._lock:
            self._collections.setdefault(collection, {})[doc_id] = body

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            doc = self.get(collection, doc_id)
            if doc is None:
                raise NotFound(f"{collection}/{doc_id} does not exist")
            doc.update(fields)
            self.put(collection, doc_id, doc)
            return doc

    def delete(self, collection: str, doc_id: str) -> None:
        with self._lock:
            self._collections.get(collection, {}).pop(doc_id, None)

    def find(
        self,
        collection: str,
        where: Sequence[Where] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        matches = _matcher(where)
        if order_by:
            _check_field(order_by)
        with self._lock:
            items = sorted(self._collections.get(collection, {}).items())
        docs = [doc for doc in (json.loads(body) for _, body in items) if matches(doc)]
        if order_by:
            key = order_by
            docs.sort(key=lambda doc: _order_key(_scalar(doc.get(key))))
        return docs if limit is None else docs[: max(0, int(limit))]

    def run_in_transaction(self, work: Callable[[DocumentStore], T]) -> T:
        with self._transaction():
            if self.retry_transactions and not self._retrying:
                self._retrying = True
                snapshot = {name: dict(docs) for name, docs in self._collections.items()}
                try:
                    work(self)
                finally:
                    self._collections, self._retrying = snapshot, False
                self.retries += 1
            return work(self)

    def close(self) -> None:
        """Nothing to release; the documents stay readable (a test may look after a close)."""

    def collections(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every document by collection and id, as copies (for tests)."""
        with self._lock:
            return {name: {i: json.loads(b) for i, b in docs.items()} for name, docs in self._collections.items()}

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Hold the lock; on an exception put every collection back as it was (nested calls join)."""
        with self._lock:
            if self._in_transaction:
                yield
                return
            snapshot = {name: dict(docs) for name, docs in self._collections.items()}
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._collections = snapshot
                self.rollbacks += 1
                raise
            else:
                self.commits += 1
            finally:
                self._in_transaction = False


def _matcher(where: Sequence[Where]) -> Callable[[dict[str, Any]], bool]:
    """A predicate for `where`, checked (names, operators) before any document is read."""
    clauses: list[tuple[str, list[_Scalar]]] = []
    for name, op, value in where:
        _check_field(name)
        if op == "==":
            clauses.append((name, [_clause_value(value)]))
        elif op == "in":
            clauses.append((name, [_clause_value(v) for v in value]))
        else:
            raise InvalidInput(f"where clause operator must be '==' or 'in', got {op!r}")

    def matches(doc: dict[str, Any]) -> bool:
        for name, values in clauses:
            field = _scalar(doc.get(name))
            # NULL equals nothing in SQL, not even NULL.
            if field is None or not any(v is not None and v == field for v in values):
                return False
        return True

    return matches


def _clause_value(value: Any) -> _Scalar:
    if isinstance(value, (dict, list, tuple)):
        raise InvalidInput(f"a where clause compares with a string, number, boolean or null, got {value!r}")
    return _scalar(value)
