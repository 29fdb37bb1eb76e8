"""The composition root: the only module that picks adapters and wires them to the core.

`build_embedded` assembles the one-machine zookeeper (SQLite, a local folder, ZeroMQ,
worker processes); `worker_ports` gives a worker the adapters its spec names. Nothing
connects to anything at import time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.ports import BlobStore, CommandInbox, EventOutbox

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ainimal_zookeeper.api.http import GraphQLEndpoint
    from ainimal_zookeeper.config import ZookeeperConfig
    from ainimal_zookeeper.service.zookeeper import Timeouts, Zookeeper

log = logging.getLogger(__name__)


@dataclass
class EmbeddedZookeeper:
    """A wired, running control plane plus what must be closed when it stops."""

    zookeeper: Zookeeper
    endpoint: GraphQLEndpoint
    http: Starlette
    closers: list[Any]

    def close(self) -> None:
        """Stop workers, then release the bus, the processes and the store."""
        try:
            self.zookeeper.stop_all("stopped when the server shut down")
        finally:
            for closer in self.closers:
                try:
                    closer()
                except Exception:  # keep closing the rest
                    log.exception("error while closing")


def build_embedded(
    config: ZookeeperConfig,
    data_dir: Path,
    client_page: Any = None,
    timeouts: Timeouts | None = None,
) -> EmbeddedZookeeper:
    """Wire the embedded default: state in `data_dir`, workers as local processes."""
    # Imported here so that a worker, which only needs `worker_ports`, stays light.
    from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
    from ainimal_zookeeper.adapters.local.process_compute import LocalProcessCompute
    from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
    from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub
    from ainimal_zookeeper.api.executor import Executor
    from ainimal_zookeeper.api.http import GraphQLEndpoint, build_http_app
    from ainimal_zookeeper.api.schema import build_executable_schema
    from ainimal_zookeeper.catalog.catalog import Catalog
    from ainimal_zookeeper.service.authorization import OpenAuthorizer
    from ainimal_zookeeper.service.limits import Limits
    from ainimal_zookeeper.service.notifier import Notifier
    from ainimal_zookeeper.service.projection import Projection
    from ainimal_zookeeper.service.zookeeper import Timeouts, Zookeeper

    data_dir.mkdir(parents=True, exist_ok=True)
    documents = SqliteDocumentStore(data_dir / "zookeeper.sqlite3")
    blobs = LocalBlobStore(data_dir / "blobs")
    hub = LocalBusHub()
    compute = LocalProcessCompute()
    threading.Thread(target=compute.warm_up, name="zk-warm-up", daemon=True).start()
    notifier = Notifier()
    projection = Projection(documents, notifier)
    hub.subscribe(projection.apply)
    compute.on_exit(projection.worker_exited)
    catalog = Catalog(
        models=[m.model_dump() for m in config.models],
        envs=[e.model_dump() for e in config.envs],
        hubs=[h.model_dump() for h in config.model_hubs],
    )
    zookeeper = Zookeeper(
        catalog=catalog,
        documents=documents,
        commands=hub,
        compute=compute,
        authorizer=OpenAuthorizer(),
        notifier=notifier,
        worker_connection={"bus": hub.connection, "blobs": {"type": "local", "root": str(blobs.root)}},
        limits=Limits(max_models=config.max_models, max_envs=config.max_envs),
        timeouts=timeouts or Timeouts(),
        torch_threads=config.workers.torch_threads,
    )
    lost = zookeeper.reconcile()
    if lost:
        log.warning("%d instance(s) had no worker after the restart and are marked FAILED", lost)
    # Inspect the catalog in the background so the first `models` query finds it ready.
    threading.Thread(target=catalog.models, name="zk-catalog", daemon=True).start()
    endpoint = GraphQLEndpoint(zookeeper, Executor(build_executable_schema()))
    http = build_http_app(endpoint, client_page)
    return EmbeddedZookeeper(zookeeper, endpoint, http, [compute.close, hub.close, documents.close])


def worker_ports(connection: dict[str, Any], instance_id: str) -> tuple[CommandInbox, EventOutbox, BlobStore]:
    """The adapters a worker uses, as its spec's `connection` names them.

    Raises:
        ConfigError: a backend type this build does not know.
    """
    bus, blobs = connection["bus"], connection["blobs"]
    if bus["type"] != "local":
        raise ConfigError(f"worker connection: bus type {bus['type']!r} is not supported; expected 'local'")
    if blobs["type"] != "local":
        raise ConfigError(f"worker connection: blobs type {blobs['type']!r} is not supported; expected 'local'")
    from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
    from ainimal_zookeeper.adapters.local.zmq_bus import LocalCommandInbox, LocalEventOutbox

    return (
        LocalCommandInbox(bus["commands"], instance_id),
        LocalEventOutbox(bus["events"]),
        LocalBlobStore(blobs["root"]),
    )
