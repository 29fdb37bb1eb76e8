"""The in-memory compute passes the ComputeProvider contract and lets a test play the worker."""

from __future__ import annotations

import threading

from ainimal_zookeeper.adapters.memory import FakeClock, InMemoryCompute
from ainimal_zookeeper.adapters.memory.compute import KILLED
from ainimal_zookeeper.ports.compute import WorkerSpec

from contracts.compute import ComputeContract, Exits


def _spec(instance_id: str) -> WorkerSpec:
    return WorkerSpec(
        instance_id=instance_id,
        model={"name": "Counter"},
        environment=None,
        init_params={},
        env_init_params={},
        mode="INFER",
        connection={"bus": {"type": "memory"}},
        seed=1,
    )


class TestInMemoryCompute(ComputeContract):
    report_timeout = 2.0

    def make_compute(self):
        return InMemoryCompute()

    def make_spec(self, instance_id):
        return _spec(instance_id)

    def finish(self, compute, instance_id):
        compute.exit(instance_id, 0)

    def crash(self, compute, instance_id):
        compute.kill(instance_id)


def test_started_specs_and_stop_requests_are_kept_for_the_test_to_read():
    compute = InMemoryCompute(obey_stop=True)
    exits = Exits()
    compute.on_exit(exits)
    compute.start(_spec("a"))
    assert compute.spec("a").seed == 1 and compute.running() == ["a"]
    compute.stop("a", grace_seconds=7)
    assert compute.stops == [("a", 7)] and exits.of("a") == [0] and compute.running() == []


def test_a_worker_ignoring_stop_is_killed_only_once_its_grace_has_passed_on_the_clock():
    clock = FakeClock()
    compute = InMemoryCompute(clock=clock)
    exits = Exits()
    compute.on_exit(exits)
    compute.start(_spec("stubborn"))
    stopper = threading.Thread(target=compute.stop, args=("stubborn", 30.0))
    stopper.start()
    clock.wait_for_sleepers(1)
    clock.advance(29.0)
    assert compute.is_alive("stubborn") is True and exits.of("stubborn") == []
    clock.advance(1.0)
    stopper.join(10)
    assert not stopper.is_alive() and exits.of("stubborn") == [KILLED]


def test_a_worker_that_ends_within_its_grace_is_reported_with_its_own_code():
    clock = FakeClock()
    compute = InMemoryCompute(clock=clock)
    exits = Exits()
    compute.on_exit(exits)
    compute.start(_spec("polite"))
    stopper = threading.Thread(target=compute.stop, args=("polite", 30.0))
    stopper.start()
    clock.wait_for_sleepers(1)
    compute.exit("polite", 0)
    stopper.join(10)
    assert not stopper.is_alive() and exits.of("polite") == [0]
