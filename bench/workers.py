"""Start real workers through the ports (no HTTP), for benchmarks that time the worker path."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.adapters.local.process_compute import LocalProcessCompute
from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub
from ainimal_zookeeper.bootstrap.ports import WORKER_ENTRY
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports import CommandBus, EventBus
from ainimal_zookeeper.ports.compute import WorkerSpec

BENCH = Path(__file__).resolve().parent


class WorkerBench:
    """Buses, a compute provider and a way to wait for events.

    Without buses it builds a local ZeroMQ hub and closes it in `close`. Given a CommandBus,
    an EventBus and the bus connection workers use to reach them (e.g. Pub/Sub's), it uses
    those and leaves closing them to the caller. Blobs are always local, under `blobs_root`.
    """

    def __init__(
        self,
        blobs_root: Path,
        commands: CommandBus | None = None,
        events: EventBus | None = None,
        bus_connection: dict[str, Any] | None = None,
    ) -> None:
        self._owned_hub: LocalBusHub | None = None
        if commands is None and events is None and bus_connection is None:
            self._owned_hub = LocalBusHub()
            commands, events, bus_connection = self._owned_hub, self._owned_hub, self._owned_hub.connection
        if commands is None or events is None or bus_connection is None:
            raise ValueError("pass all of commands, events and bus_connection, or none of them")
        self.commands: CommandBus = commands
        self.event_bus: EventBus = events
        self.bus_connection = bus_connection
        self.compute = LocalProcessCompute(WORKER_ENTRY)
        self.blobs = LocalBlobStore(blobs_root)
        self.events: list[ev.Event] = []
        self._changed = threading.Condition()
        self._unsubscribe = events.subscribe(self._record)

    @property
    def hub(self) -> CommandBus:
        """Where commands are sent (the local hub unless buses were given)."""
        return self.commands

    def _record(self, event: ev.Event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def launch(self, model: dict, mode: str = "INFER", init_params: dict | None = None) -> str:
        """Start a worker for `model` on CartPole; returns its instance id once it started."""
        instance_id = uuid.uuid4().hex[:8]
        env = {"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}
        bus = self._owned_hub.worker_connection(instance_id) if self._owned_hub else self.bus_connection
        connection = {"bus": bus, "blobs": {"type": "local", "root": str(self.blobs.root)}}
        self.compute.start(WorkerSpec(instance_id, model, env, init_params or {}, {}, mode, connection, seed=1))
        self.wait_for(lambda e: isinstance(e, ev.WorkerStarted) and e.instance_id == instance_id, 60)
        return instance_id

    def wait_for(self, match: Callable[[ev.Event], bool], timeout: float = 10, after: int = 0) -> ev.Event:
        """The first event from index `after` on (seen so far or arriving within `timeout` s) that `match`es."""
        deadline = time.monotonic() + timeout
        with self._changed:
            seen = after
            while True:
                for event in self.events[seen:]:
                    if match(event):
                        return event
                seen = len(self.events)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("event not seen")
                self._changed.wait(remaining)

    def close(self) -> None:
        """Stop the workers, stop listening, and close the hub if this bench built it."""
        self.compute.close()
        self._unsubscribe()
        if self._owned_hub is not None:
            self._owned_hub.close()


def policy_model() -> dict:
    """The model entry for bench/policies.py's MlpPolicy."""
    return {"name": "MlpPolicy", "type": "ainimal", "path": str(BENCH / "policies.py"), "class_name": "MlpPolicy"}


def torch_policy_model() -> dict:
    """The model entry for bench/torch_policies.py's TorchMlpPolicy (the observe / record / replay benchmarks)."""
    return {
        "name": "TorchMlp",
        "type": "ainimal",
        "path": str(BENCH / "torch_policies.py"),
        "class_name": "TorchMlpPolicy",
    }
