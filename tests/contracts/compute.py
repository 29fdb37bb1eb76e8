"""Contract suite for the ComputeProvider port: start, is_alive, on_exit, stop within grace, close.

A provider's test subclasses `ComputeContract` and says how to build the provider, a spec of
a worker that runs until told otherwise, and how to make that worker end by itself (success)
or die (failure). Every behaviour below is then checked against it: LocalProcessCompute with
real worker processes, GkeCompute against kmock.

What "the worker" is depends on the provider, and the contract only relies on what the
provider itself reports: a local worker is a process; a GKE worker is a Job, and against
kmock (a Kubernetes API without controllers, so no pod ever runs) "running" means the Job
exists without a final status, "ending" is the test writing that status as the Job
controller would, and a stop that outlives the grace deletes the Job.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ainimal_zookeeper.ports.compute import ComputeProvider, WorkerSpec


class Exits:
    """What `on_exit` reported, thread-safe: [(instance_id, exit code)]."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, int | None]] = []
        self._lock = threading.Lock()

    def __call__(self, instance_id: str, code: int | None) -> None:
        with self._lock:
            self.reports.append((instance_id, code))

    def of(self, instance_id: str) -> list[int | None]:
        with self._lock:
            return [code for who, code in self.reports if who == instance_id]


def eventually(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} not reached in {timeout}s"
        time.sleep(0.02)


class ComputeContract:
    """Every ComputeProvider behaves like this."""

    #: How long after an exit a provider may take to report it (its polling interval and more).
    report_timeout = 20.0

    def make_compute(self) -> ComputeProvider:
        raise NotImplementedError

    def make_spec(self, instance_id: str) -> WorkerSpec:
        """A spec whose worker runs until it is told to stop."""
        raise NotImplementedError

    def finish(self, compute: Any, instance_id: str) -> None:
        """Make the running worker end by itself, successfully (exit code 0)."""
        raise NotImplementedError

    def crash(self, compute: Any, instance_id: str) -> None:
        """Make the running worker die (a non-zero exit code)."""
        raise NotImplementedError

    @pytest.fixture
    def compute(self):
        compute = self.make_compute()
        yield compute
        compute.close()

    @pytest.fixture
    def exits(self, compute) -> Exits:
        exits = Exits()
        compute.on_exit(exits)
        return exits

    def start_running(self, compute: Any, instance_id: str) -> None:
        compute.start(self.make_spec(instance_id))
        eventually(lambda: compute.is_alive(instance_id) is True, what=f"{instance_id} alive")

    def test_a_worker_never_started_is_not_alive(self, compute):
        assert compute.is_alive("never-started") is False

    def test_a_started_worker_is_alive(self, compute):
        self.start_running(compute, "w-alive")

    def test_a_worker_that_ends_by_itself_is_reported_once_with_code_0(self, compute, exits):
        self.start_running(compute, "w-done")
        self.finish(compute, "w-done")
        eventually(lambda: exits.of("w-done") == [0], self.report_timeout, "the exit report")
        assert compute.is_alive("w-done") is False
        time.sleep(0.3)  # more polls or wake-ups: still reported once
        assert exits.of("w-done") == [0]

    def test_a_worker_that_dies_is_reported_with_a_nonzero_code(self, compute, exits):
        self.start_running(compute, "w-dies")
        self.crash(compute, "w-dies")
        eventually(lambda: len(exits.of("w-dies")) == 1, self.report_timeout, "the exit report")
        [code] = exits.of("w-dies")
        assert code is not None and code != 0
        assert compute.is_alive("w-dies") is False

    def test_exits_are_reported_per_worker(self, compute, exits):
        self.start_running(compute, "w-one")
        self.start_running(compute, "w-two")
        self.finish(compute, "w-one")
        eventually(lambda: exits.of("w-one") == [0], self.report_timeout, "the exit report")
        assert exits.of("w-two") == [] and compute.is_alive("w-two") is True

    def test_stop_ends_a_worker_that_ignores_it_within_the_grace(self, compute, exits):
        self.start_running(compute, "w-stubborn")
        compute.stop("w-stubborn", grace_seconds=1.0)
        assert compute.is_alive("w-stubborn") is False  # gone when stop returns, though it ignored the request
        # Reported like any other end, once; the code says how it was stopped (or None: unknown).
        eventually(lambda: len(exits.of("w-stubborn")) == 1, self.report_timeout, "the exit report")

    def test_stop_does_not_wait_out_the_grace_for_a_worker_that_ended(self, compute):
        self.start_running(compute, "w-ended")
        self.finish(compute, "w-ended")
        eventually(lambda: compute.is_alive("w-ended") is False, self.report_timeout, "the end")
        began = time.monotonic()
        compute.stop("w-ended", grace_seconds=600)
        # Not a speed check: a stop that waited out its grace would take ten minutes.
        assert time.monotonic() - began < 60

    def test_stopping_twice_or_stopping_a_stranger_is_harmless(self, compute):
        compute.stop("never-started", grace_seconds=0)
        self.start_running(compute, "w-twice")
        compute.stop("w-twice", grace_seconds=0)
        compute.stop("w-twice", grace_seconds=0)
        assert compute.is_alive("w-twice") is False

    def test_close_returns_promptly_with_workers_running(self):
        compute = self.make_compute()
        try:
            self.start_running(compute, "w-at-close")
        finally:
            compute.close()  # a close that waited for the worker to end by itself would hang here
