"""DocumentStore on Cloud Firestore (or its emulator, through FIRESTORE_EMULATOR_HOST).

Collections are named ``prefix + collection`` so tests and deployments can share a
database. Things callers must know that SQLite does not teach them:

- A single document sustains about one write per second. Never write telemetry (progress,
  heartbeats, metrics) into one document at a high rate: throttle or batch it in the caller.
  Each method here writes a document at most once.
- ``find`` with ``order_by`` skips documents that lack that field, and combining a filter
  with an order on another field needs a composite index on real Firestore (the emulator
  needs none); a missing one surfaces as `ConfigError` with Firestore's index link.
- Firestore cannot store a list directly inside a list, so such inner lists are stored as
  ``{"_zk_list": [...]}`` maps and turned back into lists when read.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput, NotFound, StorageUnavailable, Unavailable
from ainimal_zookeeper.ports.documents import DocumentStore, Where

__all__ = ["FirestoreDocumentStore"]

T = TypeVar("T")

_IN_MAX = 30  # Firestore's cap on the values of one `in` filter; longer lists are split
_LIST_KEY = "_zk_list"  # names like __x__ are reserved by Firestore
_COMMIT_ATTEMPTS = 30  # the library's retries of a commit that lost a race (it keeps its place in line)
_ROUNDS = 8  # our retries when a read inside a transaction is aborted (the library retries only commits)


class _Contention(Unavailable):
    """A read inside a transaction was aborted; the whole transaction is run again."""


def _field(name: str) -> str:
    # The same rule as the SQLite adapter, so a query that works locally works here too.
    if not name.replace("_", "").isalnum():
        raise InvalidInput(f"document field names are letters, digits and '_', got {name!r}")
    return FieldPath(name).to_api_repr()


def _segment(kind: str, value: str) -> str:
    # Firestore paths use "/" and reserve "." , ".." and "__x__"; refuse them before any call.
    if not value or "/" in value or value in (".", "..") or (value.startswith("__") and value.endswith("__")):
        raise InvalidInput(f"a {kind} must be non-empty without '/', '.', '..' or '__name__' form, got {value!r}")
    return value


def _encode(value: Any, in_list: bool = False) -> Any:
    """The value as Firestore can store it (inner lists wrapped in maps)."""
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = [_encode(item, in_list=True) for item in value]
        return {_LIST_KEY: items} if in_list else items
    return value


def _decode(value: Any) -> Any:
    """The JSON value back from what Firestore stored."""
    if isinstance(value, dict):
        if len(value) == 1 and _LIST_KEY in value:
            return _decode(value[_LIST_KEY])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def _rank(value: Any) -> int:
    """Firestore's order of value types: null, bool, number, string, array, map."""
    for rank, kinds in enumerate((type(None), bool, int | float, str, list)):
        if isinstance(value, kinds):
            return rank
    return 5


def _matches(doc: dict[str, Any], where: Sequence[Where], order_by: str | None) -> bool:
    """Whether Firestore would return `doc` for this query (used on buffered writes)."""
    if order_by is not None and order_by not in doc:
        return False
    for name, op, value in where:
        # _rank too, since True == 1 in Python but not in Firestore.
        if name not in doc or not any(
            _rank(doc[name]) == _rank(v) and doc[name] == v for v in (value if op == "in" else [value])
        ):
            return False
    return True


def _ordered(
    rows: Iterable[tuple[str, dict[str, Any]]], order_by: str | None, limit: int | None
) -> list[tuple[str, dict[str, Any]]]:
    """Rows gathered from several sources, in Firestore's order (then by id), cut to `limit`."""

    def key(row: tuple[str, dict[str, Any]]) -> tuple[Any, ...]:
        if order_by is None:
            return (row[0],)
        value = row[1][order_by]
        return (_rank(value), value if _rank(value) in (1, 2, 3) else 0, row[0])

    ordered = sorted(rows, key=key)
    return ordered if limit is None else ordered[:limit]


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn google.api_core errors into the zookeeper's, naming `what` was being done."""
    try:
        yield
    except gexc.AlreadyExists as exc:
        raise Conflict(f"{what} exists already") from exc
    except gexc.NotFound as exc:
        raise NotFound(f"{what} does not exist") from exc
    except gexc.Aborted as exc:
        raise _Contention(f"{what}: aborted by a concurrent transaction; retry") from exc
    except gexc.InvalidArgument as exc:
        raise InvalidInput(f"{what}: Firestore refused the request: {exc.message}") from exc
    except gexc.FailedPrecondition as exc:
        raise ConfigError(f"{what}: {exc.message} (a query may need a composite index)") from exc
    except (gexc.PermissionDenied, gexc.Unauthenticated) as exc:
        raise ConfigError(f"{what}: the credentials may not use Firestore: {exc.message}") from exc
    except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
        raise StorageUnavailable(f"{what}: Firestore did not answer ({exc}); retry later") from exc


def _connect(project: str | None, database: str) -> firestore.Client:
    """A client, or `ConfigError` saying which variable to set."""
    try:
        return firestore.Client(project=project, database=database)
    except DefaultCredentialsError as exc:
        raise ConfigError(
            "no Firestore to connect to: set FIRESTORE_EMULATOR_HOST=host:port for the emulator, or "
            "GOOGLE_APPLICATION_CREDENTIALS (or run `gcloud auth application-default login`) for real GCP "
            f"({exc})"
        ) from exc
    except OSError as exc:  # google.cloud.client raises EnvironmentError when it finds no project
        raise ConfigError(f"no Google Cloud project: set GOOGLE_CLOUD_PROJECT or pass project= ({exc})") from exc


class FirestoreDocumentStore:
    """Documents in Firestore collections; transactions via `@firestore.transactional`, one at a time per store."""

    def __init__(
        self,
        client: firestore.Client | None = None,
        project: str | None = None,
        database: str = "(default)",
        prefix: str = "",
    ) -> None:
        # Only a client made here is closed here: a given one may be shared with other adapters.
        self._owns_client = client is None
        self._client = client if client is not None else _connect(project, database)
        self._prefix = prefix
        # Transactions of one process take turns: racing ones would only abort each other on the
        # server (the emulator resolves each such deadlock by a 2 s lock timeout). Other
        # processes are still kept out by Firestore itself. Re-entrant, so a nested call cannot hang.
        self._turn = threading.RLock()

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        return self._read(collection, doc_id, None)

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        with _translated(f"{collection}/{doc_id}"):
            self._ref(collection, doc_id).create(_encode(doc))

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        with _translated(f"{collection}/{doc_id}"):
            self._ref(collection, doc_id).set(_encode(doc))

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        # Returning the merged document needs a read: read and write in one transaction so the
        # result is exactly what was stored, with still a single write.
        return self.run_in_transaction(lambda tx: tx.update(collection, doc_id, fields))

    def delete(self, collection: str, doc_id: str) -> None:
        with _translated(f"{collection}/{doc_id}"):
            self._ref(collection, doc_id).delete()

    def find(
        self,
        collection: str,
        where: Sequence[Where] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return [doc for _, doc in self._query(collection, where, order_by, limit, None)]

    def run_in_transaction(self, work: Callable[[DocumentStore], T]) -> T:
        def attempt(transaction: Any) -> T:
            view = _TransactionView(self, transaction)
            result = work(view)
            view.flush()  # writes only now: Firestore wants every read before the first write
            return result

        with self._turn:
            return self._run(attempt)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def _run(self, attempt: Callable[[Any], T]) -> T:
        """Run `attempt` in a transaction, again when a read or the commit lost a race."""
        for round_ in range(_ROUNDS):
            try:
                transaction = self._client.transaction(max_attempts=_COMMIT_ATTEMPTS)
                with _translated("transaction"):
                    try:
                        return firestore.transactional(attempt)(transaction)
                    except ValueError as exc:  # the library's "failed to commit in N attempts"
                        if isinstance(exc.__cause__, gexc.Aborted):
                            raise exc.__cause__ from exc
                        raise
            except _Contention:
                if round_ == _ROUNDS - 1:
                    raise
                time.sleep(random.uniform(0, 0.05 * 2**round_))  # jitter, so racers stop colliding
        raise AssertionError("unreachable")

    def _ref(self, collection: str, doc_id: str) -> Any:
        name = _segment("collection name", self._prefix + collection)
        return self._client.collection(name).document(_segment("document id", doc_id))

    def _read(self, collection: str, doc_id: str, transaction: Any) -> dict[str, Any] | None:
        with _translated(f"{collection}/{doc_id}"):
            snapshot = self._ref(collection, doc_id).get(transaction=transaction)
        return _decode(snapshot.to_dict()) if snapshot.exists else None

    def _query(
        self, collection: str, where: Sequence[Where], order_by: str | None, limit: int | None, transaction: Any
    ) -> list[tuple[str, dict[str, Any]]]:
        """(id, document) rows; an `in` list longer than Firestore takes is queried in parts."""
        filters = [(_field(name), op, list(value) if op == "in" else value) for name, op, value in where]
        if any(op not in ("==", "in") for _, op, _ in filters):
            raise InvalidInput(f"where clause operators must be '==' or 'in', got {[op for _, op, _ in where]}")
        if any(op == "in" and not value for _, op, value in filters):
            return []  # Firestore refuses an empty `in`, and nothing can match it anyway
        batches = [filters]
        long = next((i for i, (_, op, value) in enumerate(filters) if op == "in" and len(value) > _IN_MAX), None)
        if long is not None:
            name, _, values = filters[long]
            parts = [values[i : i + _IN_MAX] for i in range(0, len(values), _IN_MAX)]
            batches = [[*filters[:long], (name, "in", part), *filters[long + 1 :]] for part in parts]
        rows: list[tuple[str, dict[str, Any]]] = []
        for batch in batches:
            query: Any = self._client.collection(_segment("collection name", self._prefix + collection))
            for name, op, value in batch:
                query = query.where(filter=FieldFilter(name, op, value))
            if order_by is not None:
                query = query.order_by(_field(order_by))
            if limit is not None:
                query = query.limit(int(limit))
            with _translated(f"query on {collection}"):
                rows += [(snap.id, _decode(snap.to_dict())) for snap in query.stream(transaction=transaction)]
        # Each part kept order and limit: the first `limit` overall are among each part's first.
        return rows if len(batches) == 1 else _ordered(rows, order_by, limit)


class _TransactionView:
    """The store as `work` sees it in a transaction: reads go through it, writes wait in a buffer."""

    def __init__(self, store: FirestoreDocumentStore, transaction: Any) -> None:
        self._store, self._transaction = store, transaction
        self._writes: dict[tuple[str, str], dict[str, Any] | None] = {}  # None: deleted

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        if (collection, doc_id) in self._writes:  # read your own writes
            return copy.deepcopy(self._writes[collection, doc_id])
        return self._store._read(collection, doc_id, self._transaction)

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        if self.get(collection, doc_id) is not None:  # the read also locks the id against racers
            raise Conflict(f"{collection}/{doc_id} exists already")
        self._buffer(collection, doc_id, copy.deepcopy(doc))

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        self._buffer(collection, doc_id, copy.deepcopy(doc))

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        doc = self.get(collection, doc_id)
        if doc is None:
            raise NotFound(f"{collection}/{doc_id} does not exist")
        doc.update(copy.deepcopy(fields))
        self._buffer(collection, doc_id, doc)
        return copy.deepcopy(doc)

    def delete(self, collection: str, doc_id: str) -> None:
        self._buffer(collection, doc_id, None)

    def find(
        self,
        collection: str,
        where: Sequence[Where] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        mine = {doc_id: doc for (coll, doc_id), doc in self._writes.items() if coll == collection}
        # With buffered writes in play, the limit is applied after overlaying them.
        rows = dict(self._store._query(collection, where, order_by, None if mine else limit, self._transaction))
        for doc_id, doc in mine.items():
            rows.pop(doc_id, None)
            if doc is not None and _matches(doc, where, order_by):
                rows[doc_id] = copy.deepcopy(doc)
        if not mine:
            return list(rows.values())  # already in Firestore's own order
        return [doc for _, doc in _ordered(rows.items(), order_by, limit)]

    def run_in_transaction(self, work: Callable[[DocumentStore], T]) -> T:
        return work(self)  # a nested transaction joins this one

    def close(self) -> None:
        """Nothing to release: the store owns the connection."""

    def flush(self) -> None:
        """Hand the buffered writes to the transaction (one write per document)."""
        for (collection, doc_id), doc in self._writes.items():
            ref = self._store._ref(collection, doc_id)
            if doc is None:
                self._transaction.delete(ref)
            else:
                self._transaction.set(ref, _encode(doc))

    def _buffer(self, collection: str, doc_id: str, doc: dict[str, Any] | None) -> None:
        self._store._ref(collection, doc_id)  # refuse a bad id now, not at commit
        self._writes[collection, doc_id] = doc
