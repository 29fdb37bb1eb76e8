"""FirestoreDocumentStore against the real Firestore emulator: the DocumentStore contract and more."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest

from ainimal_zookeeper.adapters.gcp.firestore_documents import FirestoreDocumentStore
from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput, LimitReached, NotFound

from contracts.documents import DocumentStoreContract

ACTIVE = ["PENDING", "RUNNING", "PAUSED"]


@pytest.fixture
def firestore_store(firestore_emulator, unique):
    """A store whose collections no other test sees."""
    store = FirestoreDocumentStore(prefix=f"t{unique}_")
    yield store
    store.close()


class TestFirestoreDocumentStore(DocumentStoreContract):
    """The shared contract, run against the emulator."""

    @pytest.fixture(autouse=True)
    def _emulator(self, firestore_emulator):
        """Every test here needs the emulator running."""

    def make_store(self, tmp_path):
        return FirestoreDocumentStore(prefix=f"t{uuid.uuid4().hex[:10]}_")


def test_missing_emulator_and_credentials_raise_config_error(monkeypatch, tmp_path):
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "no-such-project")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))  # no gcloud login to fall back on

    def no_network(*args, **kwargs):
        raise AssertionError("the check must fail before touching the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(ConfigError) as caught:
        FirestoreDocumentStore()
    message = str(caught.value)
    assert "FIRESTORE_EMULATOR_HOST" in message and "GOOGLE_APPLICATION_CREDENTIALS" in message


@pytest.fixture
def two_stores(firestore_emulator, unique):
    """Two stores on the same collections, like two zookeeper processes (no shared in-process lock)."""
    stores = [FirestoreDocumentStore(prefix=f"t{unique}_") for _ in range(2)]
    yield stores
    for store in stores:
        store.close()


def _race(stores, work) -> list[object]:
    """Run `work(store, i)` on each store at once; each result or exception, in thread order."""
    barrier = threading.Barrier(len(stores))
    outcomes: list[object] = [None] * len(stores)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = work(stores[i], i)
        except Exception as exc:  # noqa: BLE001  # the test compares which exceptions came out
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_launches_racing_for_the_last_slot_let_exactly_one_through(two_stores):
    two_stores[0].put("inst", "old", {"status": "TERMINATED"})

    def launch(store, i):
        def reserve(tx):
            if len(tx.find("inst", [("status", "in", ACTIVE)])) >= 1:
                raise LimitReached("at most 1 running instance")
            tx.create("inst", f"new{i}", {"status": "PENDING"})
            return "launched"

        return store.run_in_transaction(reserve)

    outcomes = _race(two_stores, launch)
    assert "launched" in outcomes
    assert [type(o) for o in outcomes if o != "launched"] == [LimitReached]
    assert len(two_stores[1].find("inst", [("status", "in", ACTIVE)])) == 1


@pytest.mark.slow  # each collision waits out the emulator's 2 s lock timeout
def test_increments_from_two_processes_are_not_lost(two_stores):
    two_stores[0].put("counters", "c", {"n": 0})

    def bump(tx):
        tx.update("counters", "c", {"n": tx.get("counters", "c")["n"] + 1})

    def bumps(store, i):
        for _ in range(3):
            store.run_in_transaction(bump)

    assert _race(two_stores, bumps) == [None, None]
    assert two_stores[0].get("counters", "c") == {"n": 6}


def test_reads_in_a_transaction_see_its_own_buffered_writes(firestore_store):
    store = firestore_store
    store.put("inst", "a", {"status": "RUNNING", "at": 1})
    store.put("inst", "b", {"status": "RUNNING", "at": 2})

    def work(tx):
        tx.update("inst", "a", {"status": "PAUSED"})
        tx.create("inst", "c", {"status": "RUNNING", "at": 0})
        tx.delete("inst", "b")
        assert tx.get("inst", "a") == {"status": "PAUSED", "at": 1}
        assert tx.get("inst", "b") is None
        with pytest.raises(Conflict):
            tx.create("inst", "c", {})
        return [d["at"] for d in tx.find("inst", [("status", "in", ["RUNNING", "PAUSED"])], order_by="at", limit=2)]

    assert store.run_in_transaction(work) == [0, 1]
    assert store.find("inst", order_by="at") == [{"status": "RUNNING", "at": 0}, {"status": "PAUSED", "at": 1}]


def test_nested_lists_and_awkward_values_round_trip(firestore_store):
    doc = {"grid": [[1, 2], [3, [4.5, None]]], "empty": {}, "none": [], "big": 2**62, "dotted.key": True}
    firestore_store.put("things", "a", doc)
    assert firestore_store.get("things", "a") == doc
    assert firestore_store.update("things", "a", {"grid": [[0]], "empty": {"x": 1}})["grid"] == [[0]]
    assert firestore_store.get("things", "a") == {**doc, "grid": [[0]], "empty": {"x": 1}}


def test_long_in_lists_are_queried_in_parts(firestore_store):
    for i in range(40):
        firestore_store.put("things", f"d{i:02}", {"n": i})
    found = firestore_store.find("things", [("n", "in", list(range(0, 80, 2)))], order_by="n", limit=15)
    assert [d["n"] for d in found] == list(range(0, 30, 2))


def test_bad_ids_and_operators_are_refused_before_any_call(firestore_store):
    for bad in ["", "a/b", "..", "__x__"]:
        with pytest.raises(InvalidInput):
            firestore_store.put("things", bad, {})
    with pytest.raises(InvalidInput):
        firestore_store.find("things", [("n", ">", 1)])
    with pytest.raises(InvalidInput):
        firestore_store.find("things", order_by="a.b")


def test_errors_name_the_document(firestore_store):
    with pytest.raises(NotFound, match="things/ghost"):
        firestore_store.update("things", "ghost", {"v": 1})
    firestore_store.create("things", "a", {})
    with pytest.raises(Conflict, match="things/a"):
        firestore_store.create("things", "a", {})
