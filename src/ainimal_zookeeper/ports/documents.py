"""DocumentStore: where the control plane keeps state (Firestore in the cloud, SQLite locally)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: A filter clause, Firestore style: (field, "==" | "in", value).
Where = tuple[str, str, Any]


class DocumentStore(Protocol):
    """JSON documents in named collections, with equality queries and transactions.

    Documents are plain dicts of JSON values. Adapters raise `ainimal_zookeeper.errors`
    exceptions (`NotFound`, `Conflict`), never their backend's own.
    """

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """The document, or None when there is none."""
        ...

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        """Store a new document; `Conflict` when the id is taken."""
        ...

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        """Store a document, replacing any with the same id."""
        ...

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Merge top-level `fields` into a document and return it; `NotFound` when missing."""
        ...

    def delete(self, collection: str, doc_id: str) -> None:
        """Remove a document; removing a missing one is not an error."""
        ...

    def find(
        self,
        collection: str,
        where: Sequence[Where] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Documents matching every clause, ordered by a top-level field when asked."""
        ...

    def run_in_transaction(self, work: Callable[[DocumentStore], T]) -> T:
        """Run `work` with a store whose reads and writes commit atomically.

        `work` may be called more than once (Firestore retries on contention), so it must
        not have side effects outside the store it is given.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
