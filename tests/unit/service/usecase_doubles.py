"""In-memory doubles of the ports the use-case services need, a fake clock, and a scripted worker.

Time passes only when a service waits (`FakeChanges.wait` advances the clock), so leases,
grace periods and timeouts run past in no real time. Swap for `adapters/memory` once it ships.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ainimal_zookeeper.bootstrap.services import ServiceSettings, build_services
from ainimal_zookeeper.catalog.catalog import CatalogEntry, LaunchPlan
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.errors import Conflict, NotFound
from ainimal_zookeeper.ports import WorkerSpec
from ainimal_zookeeper.service.authorization import OpenAuthorizer
from ainimal_zookeeper.service.limits import Limits
from ainimal_zookeeper.service.records import COMMANDS, INSTANCES, now_iso
from ainimal_zookeeper.service.timeouts import Timeouts
from ainimal_zookeeper.service.zookeeper import Zookeeper


class MemoryDocuments:
    """A DocumentStore in a dict (copies in and out, like a real store)."""

    def __init__(self) -> None:
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}
        self._lock = threading.RLock()

    def _of(self, collection: str) -> dict[str, dict[str, Any]]:
        return self.collections.setdefault(collection, {})

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        found = self._of(collection).get(doc_id)
        return copy.deepcopy(found) if found is not None else None

    def create(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        if doc_id in self._of(collection):
            raise Conflict(f"{collection}/{doc_id} exists")
        self._of(collection)[doc_id] = copy.deepcopy(doc)

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        self._of(collection)[doc_id] = copy.deepcopy(doc)

    def update(self, collection: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        found = self._of(collection).get(doc_id)
        if found is None:
            raise NotFound(f"{collection}/{doc_id}")
        found.update(copy.deepcopy(fields))
        return copy.deepcopy(found)

    def delete(self, collection: str, doc_id: str) -> None:
        self._of(collection).pop(doc_id, None)

    def find(
        self,
        collection: str,
        where: Sequence[tuple[str, str, Any]] = (),
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        def matches(doc: dict[str, Any]) -> bool:
            for name, op, value in where:
                if op == "==" and doc.get(name) != value:
                    return False
                if op == "in" and doc.get(name) not in value:
                    return False
            return True

        found = [copy.deepcopy(d) for d in self._of(collection).values() if matches(d)]
        if order_by is not None:
            found.sort(key=lambda d: (d.get(order_by) is None, d.get(order_by) or 0))
        return found[:limit] if limit is not None else found

    def run_in_transaction(self, work: Callable[[Any], Any]) -> Any:
        with self._lock:
            return work(self)

    def close(self) -> None:
        pass


class FakeClock:
    """Time that moves only when told (or when a service waits)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeChanges:
    """The projection's signal: a wait lets the scripted worker act, then advances the clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.on_wait: list[Callable[[], None]] = []
        self.notified = 0

    def wait(self, timeout: float) -> None:
        for hook in self.on_wait:
            hook()
        self.clock.advance(timeout)

    def notify(self) -> None:
        self.notified += 1


class FakeBus:
    """A CommandBus that keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[cmd.Command] = []
        self.forgotten: list[str] = []

    def send(self, command: cmd.Command) -> None:
        self.sent.append(command)

    def forget(self, instance_id: str) -> None:
        self.forgotten.append(instance_id)

    def close(self) -> None:
        pass


class FakeCompute:
    """Workers that are alive from start until stopped."""

    def __init__(self) -> None:
        self.started: list[WorkerSpec] = []
        self.alive: set[str] = set()
        self.stopped: list[tuple[str, float]] = []

    def start(self, spec: WorkerSpec) -> None:
        self.started.append(spec)
        self.alive.add(spec.instance_id)

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        self.stopped.append((instance_id, grace_seconds))
        self.alive.discard(instance_id)

    def is_alive(self, instance_id: str) -> bool | None:
        return instance_id in self.alive

    def on_exit(self, callback: Any) -> None:
        pass

    def close(self) -> None:
        pass


class ScriptedWorker:
    """Plays the worker and the projection: reads the commands sent and writes what they would.

    `silent` ignores everything (a worker stuck in user code); `refuse` rejects each command.
    """

    def __init__(self, documents: MemoryDocuments, bus: FakeBus, compute: FakeCompute) -> None:
        self.documents, self.bus, self.compute = documents, bus, compute
        self.silent = False
        self.refuse: str | None = None
        self._read = 0

    def __call__(self) -> None:
        for spec in self.compute.started:
            doc = self.documents.get(INSTANCES, spec.instance_id)
            if not self.silent and doc is not None and doc["status"] in ("PENDING", "STARTING"):
                self.documents.update(INSTANCES, spec.instance_id, {"status": "RUNNING"})
        while self._read < len(self.bus.sent):
            command = self.bus.sent[self._read]
            self._read += 1
            if not self.silent:
                self.apply(command)

    def apply(self, command: cmd.Command) -> None:
        if self.refuse is not None:
            self._settle(command, "rejected", self.refuse)
            return
        status = {"Pause": "PAUSED", "Resume": "RUNNING", "Terminate": "TERMINATED", "EmergencyStop": "PAUSED"}
        if command.kind in status:
            fields: dict[str, Any] = {"status": status[command.kind]}
            if command.kind == "Terminate":
                fields["endedAt"] = now_iso()
            self.documents.update(INSTANCES, command.instance_id, fields)
        self._settle(command, "applied", None)

    def _settle(self, command: cmd.Command, outcome: str, error: str | None) -> None:
        if self.documents.get(COMMANDS, command.command_id) is not None:
            self.documents.update(COMMANDS, command.command_id, {"status": outcome, "error": error})


class FakeCatalog:
    """One model (INFER and TRAIN, checkpointable) and one environment."""

    def __init__(self) -> None:
        self.model_entry = CatalogEntry(
            config={"name": "Balancer", "type": "python_class"},
            spec={"name": "Balancer", "modes": ["INFER", "TRAIN", "BOTH", "NONE"], "checkpointable": True},
        )
        self.env_entry = CatalogEntry(config={"name": "CartPole", "type": "gymnasium"}, spec={"name": "CartPole"})

    def models(self) -> list[CatalogEntry]:
        return [self.model_entry]

    def environments(self) -> list[CatalogEntry]:
        return [self.env_entry]

    def model(self, name: str) -> CatalogEntry:
        if name != self.model_entry.name:
            raise NotFound(f"unknown model {name!r}")
        return self.model_entry

    def environment(self, name: str) -> CatalogEntry:
        if name != self.env_entry.name:
            raise NotFound(f"unknown environment {name!r}")
        return self.env_entry

    def plan_launch(
        self,
        model: str,
        environment: str | None,
        parameters: dict[str, Any] | None,
        environment_parameters: dict[str, Any] | None,
    ) -> LaunchPlan:
        return LaunchPlan(
            model=self.model(model),
            environment=self.environment(environment) if environment else None,
            parameters=dict(parameters or {}),
            environment_parameters=dict(environment_parameters or {}),
            init_params=dict(parameters or {}),
            env_init_params=dict(environment_parameters or {}),
        )


@dataclass
class Zoo:
    """The use-case services over the doubles, and the doubles to steer and inspect."""

    services: Zookeeper
    documents: MemoryDocuments
    bus: FakeBus
    compute: FakeCompute
    clock: FakeClock
    changes: FakeChanges
    worker: ScriptedWorker
    timeouts: Timeouts = field(default_factory=Timeouts)


def make_zoo(timeouts: Timeouts | None = None, authorizer: Any = None, hold_seconds: float = 5.0) -> Zoo:
    """Services wired as bootstrap wires them, over in-memory doubles and a fake clock."""
    timeouts = timeouts or Timeouts()
    documents, bus, compute, clock = MemoryDocuments(), FakeBus(), FakeCompute(), FakeClock()
    changes = FakeChanges(clock)
    worker = ScriptedWorker(documents, bus, compute)
    changes.on_wait.append(worker)
    settings = ServiceSettings(timeouts=timeouts, limits=Limits(), takeover_hold_seconds=hold_seconds)
    services = build_services(
        FakeCatalog(),  # type: ignore[arg-type]
        documents,
        bus,
        compute,
        authorizer or OpenAuthorizer(),
        changes,
        settings,
        clock=clock,
        reaper_in_background=False,
    )
    return Zoo(services, documents, bus, compute, clock, changes, worker, timeouts)
