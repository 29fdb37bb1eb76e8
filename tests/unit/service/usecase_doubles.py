"""The use-case services wired as bootstrap wires them, over the in-memory adapters and the real
projection, with a scripted worker on the other end of the bus and a clock that moves only
when a service waits (so leases, grace periods and timeouts run past in no real time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ainimal_zookeeper.adapters.memory import FakeClock, InMemoryBus, InMemoryCompute, InMemoryDocumentStore
from ainimal_zookeeper.adapters.memory.bus import InMemoryCommandInbox, InMemoryEventOutbox
from ainimal_zookeeper.auth.open_access import OpenAuthorizer
from ainimal_zookeeper.bootstrap.services import ServiceSettings, build_services
from ainimal_zookeeper.catalog.catalog import CatalogEntry, LaunchPlan
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import NotFound
from ainimal_zookeeper.service.limits import Limits
from ainimal_zookeeper.service.projection import Projection
from ainimal_zookeeper.service.timeouts import Timeouts
from ainimal_zookeeper.service.zookeeper import Zookeeper


class FakeChanges:
    """The projection's change signal: a wait lets the scripted worker act, then moves the clock."""

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


#: The status each command leaves a healthy worker in.
_STATUS_AFTER = {"Pause": "PAUSED", "Resume": "RUNNING", "EmergencyStop": "PAUSED"}


class ScriptedWorker:
    """Plays every started worker: says it runs, applies (or refuses) its commands, ends on Terminate.

    `silent`: it does nothing any more (stuck in user code). `refuse`: every command is rejected
    with this reason. `exit_on_terminate=False`: its process lingers after its last event.
    """

    def __init__(self, bus: InMemoryBus, compute: InMemoryCompute) -> None:
        self.bus, self.compute = bus, compute
        self.silent = False
        self.refuse: str | None = None
        self.exit_on_terminate = True
        self._connected: dict[str, tuple[InMemoryCommandInbox, InMemoryEventOutbox]] = {}

    def __call__(self) -> None:
        if self.silent:
            return
        for instance_id in self.compute.running():
            if instance_id not in self._connected:
                inbox, outbox = self.bus.inbox(instance_id), self.bus.outbox(instance_id)
                self._connected[instance_id] = (inbox, outbox)
                outbox.publish(ev.WorkerStarted(instance_id, status="RUNNING", pid=4242))
        for inbox, outbox in list(self._connected.values()):
            for command in inbox.receive(0):
                inbox.ack(command)
                self._apply(command, outbox)

    def _apply(self, command: cmd.Command, outbox: InMemoryEventOutbox) -> None:
        instance_id = command.instance_id
        if self.refuse is not None:
            outbox.publish(
                ev.CommandRejected(
                    instance_id, command_id=command.command_id, command_kind=command.kind, error=self.refuse
                )
            )
            return
        if isinstance(command, cmd.Terminate):
            outbox.publish(ev.InstanceTerminated(instance_id))
            del self._connected[instance_id]
            if self.exit_on_terminate:
                self.compute.exit(instance_id, 0)
            return
        mode = command.mode if isinstance(command, cmd.SetMode) else ""
        outbox.publish(
            ev.CommandApplied(
                instance_id,
                command_id=command.command_id,
                command_kind=command.kind,
                status=_STATUS_AFTER.get(command.kind, ""),
                mode=mode,
            )
        )


class FakeCatalog:
    """One model (every mode, checkpointable) and one environment."""

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
    """The use-case services, and the adapters and worker a test steers and reads."""

    services: Zookeeper
    documents: InMemoryDocumentStore
    bus: InMemoryBus
    compute: InMemoryCompute
    clock: FakeClock
    changes: FakeChanges
    worker: ScriptedWorker


def make_zoo(timeouts: Timeouts | None = None, authorizer: Any = None, hold_seconds: float = 5.0) -> Zoo:
    """Services over in-memory adapters (transactions run twice, as Firestore may) and a fake clock."""
    clock = FakeClock()
    documents, bus, compute = InMemoryDocumentStore(retry_transactions=True), InMemoryBus(clock), InMemoryCompute(clock)
    changes = FakeChanges(clock)
    projection = Projection(documents, changes)  # type: ignore[arg-type]  # the notifier's two methods
    bus.subscribe(projection.apply)
    compute.on_exit(projection.worker_exited)
    worker = ScriptedWorker(bus, compute)
    changes.on_wait.append(worker)
    settings = ServiceSettings(
        timeouts=timeouts or Timeouts(),
        limits=Limits(),
        worker_connection={"bus": bus.connection},
        takeover_hold_seconds=hold_seconds,
    )
    services = build_services(
        FakeCatalog(),  # type: ignore[arg-type]
        documents,
        bus,
        compute,
        authorizer or OpenAuthorizer(),
        changes,
        settings,
        events=bus,
        clock=clock,
        reaper_in_background=False,
    )
    return Zoo(services, documents, bus, compute, clock, changes, worker)
