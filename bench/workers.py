"""Start real workers through the ports (no HTTP), for benchmarks that time the worker path."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.adapters.local.process_compute import LocalProcessCompute
from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.compute import WorkerSpec

BENCH = Path(__file__).resolve().parent


class WorkerBench:
    """A bus hub, a compute provider and a way to wait for events."""

    def __init__(self, blobs_root: Path) -> None:
        self.hub = LocalBusHub()
        self.compute = LocalProcessCompute()
        self.blobs = LocalBlobStore(blobs_root)
        self.events: list[ev.Event] = []
        self._changed = threading.Condition()
        self.hub.subscribe(self._record)

    def _record(self, event: ev.Event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def launch(self, model: dict, mode: str = "INFER") -> str:
        instance_id = uuid.uuid4().hex[:8]
        env = {"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}
        connection = {"bus": self.hub.connection, "blobs": {"type": "local", "root": str(self.blobs.root)}}
        self.compute.start(WorkerSpec(instance_id, model, env, {}, {}, mode, connection, seed=1))
        self.wait_for(lambda e: isinstance(e, ev.WorkerStarted) and e.instance_id == instance_id, 60)
        return instance_id

    def wait_for(self, match: Callable[[ev.Event], bool], timeout: float = 10) -> ev.Event:
        deadline = time.monotonic() + timeout
        with self._changed:
            seen = 0
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
        self.compute.close()
        self.hub.close()


def policy_model() -> dict:
    """The model entry for bench/policies.py's MlpPolicy."""
    return {"name": "MlpPolicy", "type": "ainimal", "path": str(BENCH / "policies.py"), "class_name": "MlpPolicy"}
