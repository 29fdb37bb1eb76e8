"""Liveness and the reaper run past many of their periods on a FakeClock, in no real time.

A worker that keeps reporting is never failed however long it runs; one that falls silent is
failed once its silence exceeds the limit, and handed on once; an ended instance's worker that
outstays its grace is stopped, and one that ends within it is left alone.
"""

from __future__ import annotations

import threading

from ainimal_zookeeper.adapters.memory import FakeClock, InMemoryBus, InMemoryCompute, InMemoryDocumentStore
from ainimal_zookeeper.adapters.memory.compute import KILLED
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.service.liveness import LivenessWatch
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.projection import Projection
from ainimal_zookeeper.service.reaper import WorkerReaper
from ainimal_zookeeper.service.records import INSTANCES

from contracts.compute import Exits


def _spec(instance_id: str) -> WorkerSpec:
    return WorkerSpec(instance_id, {"name": "Counter"}, None, {}, {}, "INFER", {"bus": {"type": "memory"}}, 1)


def test_a_reporting_worker_is_never_failed_and_a_silent_one_is_failed_once_past_the_limit():
    clock, documents, bus = FakeClock(), InMemoryDocumentStore(), InMemoryBus()
    bus.subscribe(Projection(documents, Notifier(), clock=clock).apply)  # heartbeats: when events arrive
    documents.put(INSTANCES, "i", {"id": "i", "status": "RUNNING", "createdEpoch": clock.time()})
    failed: list[str] = []
    watch = LivenessWatch(documents, Notifier(), max_silence=30.0, interval=5.0, on_failed=failed.append, clock=clock)
    watch.start()
    try:
        clock.wait_for_sleepers(1)
        outbox = bus.outbox("i")
        for period in range(24):  # two minutes, a heartbeat each period
            outbox.publish(ev.Progress("i", time=clock.time(), step=period))
            clock.advance(5.0)
            clock.wait_for_sleepers(1)  # the watch checked, and waits for its next period
        assert documents.get(INSTANCES, "i")["status"] == "RUNNING" and failed == []
        for _ in range(5):  # silent 30 s (5 s since the last heartbeat, then 25): at the limit, not past it
            clock.advance(5.0)
            clock.wait_for_sleepers(1)
        assert documents.get(INSTANCES, "i")["status"] == "RUNNING"
        for _ in range(10):  # past the limit, and many periods more
            clock.advance(5.0)
            clock.wait_for_sleepers(1)
    finally:
        watch.close()
    doc = documents.get(INSTANCES, "i")
    assert doc["status"] == "FAILED" and "no heartbeat from its worker for 35s" in doc["error"]
    assert failed == ["i"]  # handed on once, though checked ten times more


def test_an_instance_whose_worker_never_reported_is_failed_counting_from_its_creation():
    clock, documents = FakeClock(), InMemoryDocumentStore()
    documents.put(INSTANCES, "never", {"id": "never", "status": "STARTING", "createdEpoch": clock.time()})
    watch = LivenessWatch(documents, Notifier(), max_silence=10.0, interval=1.0, clock=clock)
    watch.start()
    try:
        clock.wait_for_sleepers(1)
        for _ in range(10):
            clock.advance(1.0)
            clock.wait_for_sleepers(1)
        assert documents.get(INSTANCES, "never")["status"] == "STARTING"
        clock.advance(1.0)
        clock.wait_for_sleepers(1)
    finally:
        watch.close()
    assert documents.get(INSTANCES, "never")["status"] == "FAILED"


def test_the_reaper_stops_only_the_workers_that_outstay_their_grace_over_several_graces():
    clock = FakeClock()
    compute = InMemoryCompute(clock=clock)
    exits = Exits()
    compute.on_exit(exits)
    killed: list[str] = []
    reaper = WorkerReaper(compute, grace=10.0, on_killed=killed.append, clock=clock.monotonic, background=False)
    for instance_id in ("stuck", "polite", "later"):
        compute.start(_spec(instance_id))
    reaper.reap("stuck")
    reaper.reap("polite")
    reaper.reap("stuck")  # asked twice: reaped once
    clock.advance(9.9)
    assert reaper.run_due() == [] and compute.running() == ["later", "polite", "stuck"]
    compute.exit("polite", 0)  # it stops by itself within its grace
    clock.advance(0.5)
    reaper.reap("later")
    assert reaper.run_due() == ["stuck"] and killed == ["stuck"]
    assert exits.of("stuck") == [KILLED] and exits.of("polite") == [0]
    for _ in range(3):  # several graces more: "later" goes at its own deadline, nobody twice
        clock.advance(5.0)
        reaper.run_due()
    assert killed == ["stuck", "later"] and compute.running() == [] and reaper.pending() == 0


def test_the_reaper_thread_waits_on_real_time_and_a_stuck_worker_is_stopped_by_it():
    clock = FakeClock()
    compute = InMemoryCompute(clock=clock)
    compute.start(_spec("stuck"))
    done = threading.Event()
    reaper = WorkerReaper(compute, grace=0.05, on_killed=lambda _id: done.set(), clock=clock.monotonic)
    try:
        reaper.reap("stuck")
        clock.advance(0.05)
        assert done.wait(10)  # the reaper's own thread found it due
    finally:
        reaper.close()
    assert compute.running() == []
