"""The reaper stops the workers of ended instances that outstay their grace, and only those."""

from __future__ import annotations

import threading
import time

from ainimal_zookeeper.service.reaper import WorkerReaper


class FakeCompute:
    """Workers that are alive until stopped, or that stop by themselves when told to."""

    def __init__(self, alive: set[str]) -> None:
        self.alive = set(alive)
        self.stopped: list[tuple[str, float]] = []

    def is_alive(self, instance_id: str) -> bool:
        return instance_id in self.alive

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        self.stopped.append((instance_id, grace_seconds))
        self.alive.discard(instance_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_worker_still_running_after_the_grace_is_stopped_and_reported_killed():
    compute, clock, killed = FakeCompute({"stuck"}), Clock(), []
    reaper = WorkerReaper(compute, grace=5.0, on_killed=killed.append, clock=clock, background=False)
    reaper.reap("stuck")
    clock.now += 4.9
    assert reaper.run_due() == [] and compute.stopped == []  # still within its grace
    clock.now += 0.2
    assert reaper.run_due() == ["stuck"]
    assert compute.stopped == [("stuck", 0)] and killed == ["stuck"]
    clock.now += 60  # several graces later: nothing left to do
    assert reaper.run_due() == [] and reaper.pending() == 0


def test_a_worker_that_stopped_by_itself_within_the_grace_is_left_alone():
    compute, clock, killed = FakeCompute({"polite"}), Clock(), []
    reaper = WorkerReaper(compute, grace=5.0, on_killed=killed.append, clock=clock, background=False)
    reaper.reap("polite")
    compute.alive.discard("polite")  # it ended in time
    clock.now += 5.1
    assert reaper.run_due() == [] and compute.stopped == [] and killed == []


def test_reaping_an_instance_twice_waits_once_and_each_instance_has_its_own_grace():
    compute, clock = FakeCompute({"a", "b"}), Clock()
    reaper = WorkerReaper(compute, grace=5.0, clock=clock, background=False)
    reaper.reap("a")
    clock.now += 3
    reaper.reap("a")  # already waited for: keeps its first deadline
    reaper.reap("b")
    assert reaper.pending() == 2
    clock.now += 2.1
    assert reaper.run_due() == ["a"]
    clock.now += 3
    assert reaper.run_due() == ["b"]


def test_a_provider_that_fails_to_stop_a_worker_does_not_end_the_reaper():
    class Failing(FakeCompute):
        def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
            raise RuntimeError("the cluster is unreachable")

    compute, clock = Failing({"x", "y"}), Clock()
    reaper = WorkerReaper(compute, grace=1.0, clock=clock, background=False)
    reaper.reap("x")
    reaper.reap("y")
    clock.now += 2
    assert reaper.run_due() == []  # both tried, neither reported killed, no exception
    assert reaper.pending() == 0


def test_the_reaper_thread_stops_workers_on_time_with_a_short_grace():
    compute, done = FakeCompute({"stuck"}), threading.Event()
    reaper = WorkerReaper(compute, grace=0.2, on_killed=lambda _: done.set())
    began = time.monotonic()
    reaper.reap("stuck")
    assert done.wait(10), "not stopped"
    assert time.monotonic() - began >= 0.2  # not before its grace
    reaper.close()
    reaper.reap("late")  # closed: ignored
    assert reaper.pending() == 0
