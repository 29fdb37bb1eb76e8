"""The projection's part in takeovers: who an instance waits for, and overrides the worker ended."""

from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.projection import Projection


def test_waiting_for_lands_at_once_through_the_throttle_and_goes_back_to_null(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    store.put("instances", "i", {"id": "i", "status": "RUNNING", "step": 0})
    projection = Projection(store, Notifier(), progress_interval=1.0)
    projection.apply(ev.Progress("i", time=10.0, step=1))
    projection.apply(ev.Progress("i", time=10.2, step=2, waiting_for="lockstep takeover by alice"))
    assert store.get("instances", "i")["waitingFor"] == "lockstep takeover by alice"
    projection.apply(ev.Progress("i", time=10.4, step=3, waiting_for="lockstep takeover by alice"))  # throttled
    assert store.get("instances", "i")["step"] == 2
    projection.apply(ev.Progress("i", time=10.5, step=9))
    assert store.get("instances", "i")["waitingFor"] is None and store.get("instances", "i")["step"] == 9
    store.close()


def test_an_override_the_worker_ended_is_marked_inactive_with_its_reason(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    store.put("instances", "i", {"id": "i", "status": "RUNNING"})
    for override_id in ("expired", "cleared-by-a-person"):
        store.put("overrides", override_id, {"id": override_id, "instance": "i", "active": True})
    projection = Projection(store, Notifier())
    projection.apply(ev.OverrideChanged("i", override_id="expired", active=False, reason="takeover lease expired"))
    projection.apply(ev.OverrideChanged("i", override_id="cleared-by-a-person", active=False))  # the service marks it
    projection.apply(ev.OverrideChanged("i", override_id="unknown", active=False, reason="emergency stop"))
    expired = store.get("overrides", "expired")
    assert expired["active"] is False and expired["clearedReason"] == "takeover lease expired" and expired["clearedAt"]
    assert store.get("overrides", "cleared-by-a-person")["active"] is True
    assert store.get("overrides", "unknown") is None
    store.close()
