"""Sign-ins in flight: the `state` of an OAuth 2 authorization request and its PKCE verifier.

`state` ties the provider's redirect back to a sign-in this server started (CSRF protection);
the PKCE verifier proves the code is redeemed by whoever asked for it. Both must outlive the
request that started the sign-in, and the control plane may run as several instances, so they
go into the DocumentStore (an in-memory dict serves a single process and the tests). Each is
used once and expires after ten minutes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from ainimal_zookeeper.errors import Unauthenticated
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.ports.identity import PendingSignIn

__all__ = ["DocumentStates", "MemoryStates"]

COLLECTION = "oauth_states"


def _doc_id(state: str) -> str:
    # Hashed: a store reader cannot replay states, and any state text is a safe document id.
    return hashlib.sha256(state.encode()).hexdigest()


def _unknown() -> Unauthenticated:
    return Unauthenticated("this sign-in is unknown, used already or expired (10 minutes): start signing in again")


class MemoryStates:
    """Pending sign-ins in this process only (a `ports.identity.PendingStates`)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: dict[str, PendingSignIn] = {}
        self._lock = threading.Lock()

    def save(self, state: str, pending: PendingSignIn) -> None:
        now = self._clock()
        with self._lock:
            # Drop expired entries so abandoned sign-ins cannot pile up.
            self._pending = {k: v for k, v in self._pending.items() if v.expires_at > now}
            self._pending[_doc_id(state)] = pending

    def take(self, state: str) -> PendingSignIn:
        with self._lock:
            pending = self._pending.pop(_doc_id(state), None)
        if pending is None or pending.expires_at <= self._clock():
            raise _unknown()
        return pending


class DocumentStates:
    """Pending sign-ins in the DocumentStore, so any control-plane instance can finish them."""

    #: Abandoned sign-ins are swept after this many saves (the store cannot query "older than").
    SWEEP_EVERY = 64

    def __init__(self, documents: DocumentStore, clock: Callable[[], float] = time.time) -> None:
        self._documents = documents
        self._clock = clock
        self._saves = 0

    def save(self, state: str, pending: PendingSignIn) -> None:
        self._documents.put(COLLECTION, _doc_id(state), {"id": _doc_id(state), **asdict(pending)})
        self._saves += 1
        if self._saves % self.SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self) -> int:
        """Delete expired pending sign-ins; returns how many."""
        now = self._clock()
        expired = [doc["id"] for doc in self._documents.find(COLLECTION) if float(doc.get("expires_at", 0)) <= now]
        for doc_id in expired:
            self._documents.delete(COLLECTION, doc_id)
        return len(expired)

    def take(self, state: str) -> PendingSignIn:
        doc_id = _doc_id(state)

        def pop(tx: DocumentStore) -> dict[str, Any] | None:
            doc = tx.get(COLLECTION, doc_id)
            if doc is not None:
                tx.delete(COLLECTION, doc_id)
            return doc

        doc = self._documents.run_in_transaction(pop)
        if doc is None or float(doc.get("expires_at", 0)) <= self._clock():
            raise _unknown()
        return PendingSignIn(doc["provider"], doc["code_verifier"], doc["redirect_uri"], float(doc["expires_at"]))
