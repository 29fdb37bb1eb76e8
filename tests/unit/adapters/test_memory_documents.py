"""The in-memory DocumentStore passes the DocumentStore contract and keeps SQLite's query rules."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.errors import InvalidInput

from contracts.documents import DocumentStoreContract


class TestInMemoryDocumentStore(DocumentStoreContract):
    def make_store(self, tmp_path):
        return InMemoryDocumentStore()

    def test_documents_read_back_are_copies_the_caller_may_change(self, store):
        doc = {"v": [1]}
        store.put("things", "a", doc)
        doc["v"].append(2)
        store.get("things", "a")["v"].append(3)
        assert store.get("things", "a") == {"v": [1]}

    def test_a_value_json_cannot_hold_is_refused_as_sqlite_refuses_it(self, store):
        with pytest.raises(TypeError):
            store.put("things", "a", {"when": object()})
        assert store.get("things", "a") is None

    def test_find_returns_id_order_and_orders_missing_fields_first_like_sqlite(self, store):
        store.put("c", "b", {"id": "b", "at": 2})
        store.put("c", "a", {"id": "a", "at": "text"})
        store.put("c", "c", {"id": "c"})
        store.put("c", "d", {"id": "d", "at": 1.5})
        assert [d["id"] for d in store.find("c")] == ["a", "b", "c", "d"]
        assert [d["id"] for d in store.find("c", order_by="at")] == ["c", "d", "b", "a"]
        assert [d["id"] for d in store.find("c", order_by="at", limit=2)] == ["c", "d"]

    def test_equality_follows_sql_null_never_matches_and_booleans_are_numbers(self, store):
        store.put("c", "n", {"v": None})
        store.put("c", "t", {"v": True})
        store.put("c", "one", {"v": 1})
        assert store.find("c", [("v", "==", None)]) == []
        assert sorted(d["v"] for d in store.find("c", [("v", "==", True)])) == [1, True]
        assert store.find("c", [("v", "in", ["1"])]) == []

    def test_bad_clauses_are_refused_before_any_document_is_read(self, store):
        with pytest.raises(InvalidInput, match="'==' or 'in'"):
            store.find("c", [("v", ">", 1)])
        with pytest.raises(InvalidInput, match="field names"):
            store.find("c", order_by="v; DROP")

    def test_nested_transactions_join_the_outer_one_and_roll_back_with_it(self, store):
        def inner(tx):
            tx.put("c", "inner", {"v": 1})

        def outer(tx):
            tx.run_in_transaction(inner)
            raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            store.run_in_transaction(outer)
        assert store.get("c", "inner") is None and store.rollbacks == 1


def test_retried_transactions_run_their_work_twice_and_keep_only_the_last_run():
    store = InMemoryDocumentStore(retry_transactions=True)
    store.put("counters", "c", {"n": 0})
    runs: list[int] = []

    def bump(tx):
        runs.append(1)  # a side effect outside the store: exactly what a retry repeats
        n = tx.get("counters", "c")["n"]
        tx.update("counters", "c", {"n": n + 1})
        return n + 1

    assert store.run_in_transaction(bump) == 1
    assert store.get("counters", "c") == {"n": 1} and len(runs) == 2 and store.retries == 1
