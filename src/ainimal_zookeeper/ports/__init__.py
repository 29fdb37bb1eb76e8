"""The ports: what the core needs from the outside world, as small Protocols."""

from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import CommandBus, CommandInbox, EventBus, EventOutbox
from ainimal_zookeeper.ports.compute import ComputeProvider, ExitCallback, WorkerSpec
from ainimal_zookeeper.ports.documents import DocumentStore, Where

__all__ = [
    "BlobStore",
    "CommandBus",
    "CommandInbox",
    "ComputeProvider",
    "DocumentStore",
    "EventBus",
    "EventOutbox",
    "ExitCallback",
    "Where",
    "WorkerSpec",
]
