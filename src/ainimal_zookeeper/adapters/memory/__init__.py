"""In-memory adapters for every port, shipped for tests (as httpx ships `MockTransport`).

Each passes the same contract suite as the real adapters (`tests/contracts/`), keeps what it
was asked to do for a test to read, and lets a test play the other side: `InMemoryCompute`
starts no process (the test ends workers), `FakeClock` moves only when advanced.

    from ainimal_zookeeper.adapters.memory import FakeClock, InMemoryBus, InMemoryDocumentStore
"""

from pathlib import Path
from typing import TYPE_CHECKING

from ainimal_zookeeper.adapters.memory.blobs import InMemoryBlobStore
from ainimal_zookeeper.adapters.memory.bus import InMemoryBus, InMemoryCommandInbox, InMemoryEventOutbox
from ainimal_zookeeper.adapters.memory.clock import FakeClock
from ainimal_zookeeper.adapters.memory.compute import InMemoryCompute
from ainimal_zookeeper.adapters.memory.documents import InMemoryDocumentStore
from ainimal_zookeeper.adapters.memory.model_hubs import InMemoryModelHub

__all__ = [
    "FakeClock",
    "InMemoryBlobStore",
    "InMemoryBus",
    "InMemoryCommandInbox",
    "InMemoryCompute",
    "InMemoryDocumentStore",
    "InMemoryEventOutbox",
    "InMemoryModelHub",
]

if TYPE_CHECKING:  # mypy checks here that every fake implements its port

    def _implements_the_ports() -> None:
        from ainimal_zookeeper.ports import (
            BlobStore,
            CommandBus,
            CommandInbox,
            ComputeProvider,
            DocumentStore,
            EventBus,
            EventOutbox,
        )
        from ainimal_zookeeper.ports.clock import Clock
        from ainimal_zookeeper.ports.model_hubs import ModelHub

        bus = InMemoryBus(FakeClock())
        ports: tuple[DocumentStore, BlobStore, CommandBus, EventBus, CommandInbox, EventOutbox, ComputeProvider] = (
            InMemoryDocumentStore(),
            InMemoryBlobStore(),
            bus,
            bus,
            bus.inbox("i"),
            bus.outbox("i"),
            InMemoryCompute(),
        )
        clock: Clock = FakeClock()
        hub: ModelHub = InMemoryModelHub(Path("cache"))
        del ports, clock, hub
