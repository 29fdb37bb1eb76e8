"""Instances whose workers fall silent are marked FAILED; live ones are left alone."""

from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.service.liveness import fail_silent_instances


def test_silent_active_instances_fail_and_others_are_untouched(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    docs = {
        "silent": {"status": "RUNNING", "lastHeartbeat": 100.0},
        "fresh": {"status": "PAUSED", "lastHeartbeat": 190.0},
        "never-started": {"status": "STARTING", "createdEpoch": 50.0},
        "ended": {"status": "TERMINATED", "lastHeartbeat": 10.0},
    }
    for instance_id, doc in docs.items():
        store.put("instances", instance_id, {"id": instance_id, **doc})
    marked = fail_silent_instances(store, max_silence=30, now=200.0)
    assert sorted(marked) == ["never-started", "silent"]
    assert store.get("instances", "silent")["status"] == "FAILED"
    assert "no heartbeat from its worker for 100s" in store.get("instances", "silent")["error"]
    assert store.get("instances", "fresh")["status"] == "PAUSED"
    assert store.get("instances", "ended")["status"] == "TERMINATED"
    store.close()


def test_progress_is_throttled_per_instance_but_status_changes_always_land(tmp_path):
    from ainimal_zookeeper.adapters.memory import FakeClock
    from ainimal_zookeeper.domain import events as ev
    from ainimal_zookeeper.service.notifier import Notifier
    from ainimal_zookeeper.service.projection import Projection

    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    store.put("instances", "i", {"id": "i", "status": "RUNNING", "step": 0})
    clock = FakeClock(start=10.0)  # the control plane's: events are timed as they arrive

    def arriving_at(at: float, **fields) -> None:
        clock.advance(at - clock.time())
        projection.apply(ev.Progress("i", time=at, **fields))

    projection = Projection(store, Notifier(), progress_interval=1.0, clock=clock)
    arriving_at(10.0, step=1)
    arriving_at(10.3, step=2)  # within the interval: skipped
    assert store.get("instances", "i")["step"] == 1
    arriving_at(10.5, step=3, status="PAUSED")  # a status change lands
    assert store.get("instances", "i")["status"] == "PAUSED" and store.get("instances", "i")["step"] == 3
    arriving_at(11.6, step=4, status="PAUSED")
    assert store.get("instances", "i")["step"] == 4
    store.close()


def test_the_watch_hands_each_instance_it_fails_to_its_callback_past_several_intervals(tmp_path):
    import time

    from ainimal_zookeeper.service.liveness import LivenessWatch
    from ainimal_zookeeper.service.notifier import Notifier

    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    store.put("instances", "silent", {"id": "silent", "status": "RUNNING", "lastHeartbeat": time.time() - 60})
    failed: list[str] = []

    def flaky(instance_id: str) -> None:
        failed.append(instance_id)
        raise RuntimeError("a failing callback must not end the watch")

    watch = LivenessWatch(store, Notifier(), max_silence=0.2, interval=0.05, on_failed=flaky)
    watch.start()
    try:
        deadline = time.monotonic() + 10
        while not failed and time.monotonic() < deadline:
            time.sleep(0.02)
        store.put("instances", "later", {"id": "later", "status": "RUNNING", "lastHeartbeat": time.time()})
        while len(failed) < 2 and time.monotonic() < deadline:  # silent for several intervals
            time.sleep(0.02)
    finally:
        watch.close()
    assert failed == ["silent", "later"]  # each once, though checked many times
    store.close()
