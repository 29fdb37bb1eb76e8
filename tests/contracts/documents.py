"""The DocumentStore contract: an adapter's test only says how to build the store.

Run against SQLite, the JSON-file store, the in-memory store and the Firestore emulator.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound
from ainimal_zookeeper.ports import DocumentStore


class DocumentStoreContract:
    """Every DocumentStore behaves like this."""

    def make_store(self, tmp_path: Path) -> DocumentStore:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path):
        store = self.make_store(tmp_path)
        yield store
        store.close()

    def test_a_stored_document_reads_back_equal(self, store):
        doc = {"id": "a", "n": 1, "nested": {"x": [1, 2.5, None]}, "s": "é"}
        store.put("things", "a", doc)
        assert store.get("things", "a") == doc

    def test_a_missing_document_reads_as_none(self, store):
        assert store.get("things", "missing") is None

    def test_create_refuses_an_existing_id(self, store):
        store.create("things", "a", {"v": 1})
        with pytest.raises(Conflict):
            store.create("things", "a", {"v": 2})
        assert store.get("things", "a") == {"v": 1}

    def test_update_merges_fields_and_refuses_a_missing_document(self, store):
        store.put("things", "a", {"v": 1, "w": 2})
        assert store.update("things", "a", {"w": 3}) == {"v": 1, "w": 3}
        with pytest.raises(NotFound):
            store.update("things", "zzz", {"w": 3})

    def test_find_filters_by_equality_and_membership_and_orders(self, store):
        for i, status in enumerate(["RUNNING", "PAUSED", "FAILED", "RUNNING"]):
            store.put("inst", f"i{i}", {"id": f"i{i}", "status": status, "model": "m" if i < 2 else "n", "at": 10 - i})
        running = store.find("inst", [("status", "in", ["RUNNING", "PAUSED"])], order_by="at")
        assert [d["id"] for d in running] == ["i3", "i1", "i0"]
        assert [d["id"] for d in store.find("inst", [("model", "==", "m"), ("status", "==", "PAUSED")])] == ["i1"]
        assert store.find("inst", [("status", "in", [])]) == []
        assert len(store.find("inst", limit=2)) == 2

    def test_find_refuses_unsafe_field_names(self, store):
        with pytest.raises(InvalidInput):
            store.find("inst", [("status') OR 1=1 --", "==", "x")])

    def test_collections_are_separate(self, store):
        store.put("a", "x", {"v": 1})
        store.put("b", "x", {"v": 2})
        assert store.get("a", "x") == {"v": 1} and store.find("b") == [{"v": 2}]

    def test_a_failed_transaction_leaves_nothing_behind(self, store):
        store.put("things", "a", {"v": 1})

        def work(tx):
            tx.update("things", "a", {"v": 2})
            tx.put("things", "b", {"v": 3})
            raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            store.run_in_transaction(work)
        assert store.get("things", "a") == {"v": 1} and store.get("things", "b") is None

    def test_concurrent_transactions_never_lose_an_increment(self, store):
        store.put("counters", "c", {"n": 0})

        def bump(tx):
            n = tx.get("counters", "c")["n"]
            tx.update("counters", "c", {"n": n + 1})

        threads = [
            threading.Thread(target=lambda: [store.run_in_transaction(bump) for _ in range(50)]) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.get("counters", "c") == {"n": 200}
