"""The projection keeps a budget's stop reason, whichever arrives first: the worker's exit or its last event."""

from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.projection import Projection


def test_a_budget_end_seen_after_the_workers_exit_still_ends_terminated_with_its_reason(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    store.put("instances", "i", {"id": "i", "status": "RUNNING", "step": 0})
    projection = Projection(store, Notifier())
    projection.worker_exited("i", 0)  # the exit watcher was quicker than the event bus
    assert store.get("instances", "i")["status"] == "FAILED"
    projection.apply(ev.InstanceTerminated("i", step=300, episode=4, reason="budget: 300 steps"))
    doc = store.get("instances", "i")
    assert doc["status"] == "TERMINATED" and doc["stopReason"] == "budget: 300 steps" and doc["error"] is None
    assert doc["step"] == 300
    store.close()


def test_a_budget_end_seen_first_is_kept_as_it_is(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    store.put("instances", "i", {"id": "i", "status": "RUNNING", "step": 0})
    projection = Projection(store, Notifier())
    projection.apply(ev.InstanceTerminated("i", step=5, episode=1, reason="budget: 1 episodes"))
    projection.worker_exited("i", 0)
    doc = store.get("instances", "i")
    assert doc["status"] == "TERMINATED" and doc["stopReason"] == "budget: 1 episodes"
    store.close()
