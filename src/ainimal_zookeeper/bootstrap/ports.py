"""Pick the adapter behind each port from the config's `backends` (local by default).

Adapter modules are imported only when chosen, so the embedded server never loads the
Google client libraries and a worker loads only what its connection names.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.ports import (
    BlobStore,
    CommandBus,
    CommandInbox,
    ComputeProvider,
    DocumentStore,
    EventBus,
    EventOutbox,
)

_log = logging.getLogger(__name__)

#: What a local worker process runs: the worker's entry point, named rather than imported (it is
#: an entry point like the server, outside the core); containers run the same module with -m.
WORKER_ENTRY = "ainimal_zookeeper.worker_main:run_worker_spec"

if TYPE_CHECKING:
    from ainimal_zookeeper.adapters.worker_paths import WorkerPaths
    from ainimal_zookeeper.config import ZookeeperConfig
    from ainimal_zookeeper.config.backends import GcpSettings


@dataclass
class ControlPlanePorts:
    """The control plane's adapters, how workers reach theirs, and what to close at the end."""

    documents: DocumentStore
    blobs: BlobStore
    commands: CommandBus
    events: EventBus
    compute: ComputeProvider
    worker_connection: dict[str, Any]
    closers: list[Callable[[], None]] = field(default_factory=list)


def control_plane_ports(config: ZookeeperConfig, data_dir: Path) -> ControlPlanePorts:
    """Build every port's adapter for `config`, state under `data_dir` where local."""
    backends, gcp = config.backends, config.gcp
    if backends.documents != "firestore" or backends.blobs != "gcs":
        from ainimal_zookeeper.bootstrap.data_folder import secure_data_folder

        secure_data_folder(data_dir)  # 0700, and nothing inside readable by other users
    documents = _documents(backends.documents, data_dir, gcp)
    blobs, blobs_connection = _blobs(backends.blobs, data_dir, gcp)
    commands, events, bus_connection = _buses(backends.bus, gcp)
    # Local workers on real Google Cloud ports (not emulators) need credentials to reach them.
    needs_credentials = (backends.bus == "pubsub" and not os.environ.get("PUBSUB_EMULATOR_HOST")) or (
        backends.blobs == "gcs" and not os.environ.get("STORAGE_EMULATOR_HOST")
    )
    compute = _compute(
        backends.compute, gcp, config.workers.torch_threads, config.workers.environment, needs_credentials
    )
    compute = _with_bus_credentials(compute, commands, gcp)
    closers = [compute.close, commands.close]
    if events is not commands:
        closers.append(events.close)
    closers.append(documents.close)
    connection = {"bus": bus_connection, "blobs": blobs_connection}
    return ControlPlanePorts(documents, blobs, commands, events, compute, connection, closers)


def _project(gcp: GcpSettings) -> str:
    project = gcp.project or os.environ.get("GOOGLE_CLOUD_PROJECT")
    if not project:
        raise ConfigError("the gcp backends need a project: set gcp.project or GOOGLE_CLOUD_PROJECT")
    return project


def _documents(kind: str, data_dir: Path, gcp: GcpSettings) -> DocumentStore:
    if kind == "firestore":
        from ainimal_zookeeper.adapters.gcp.firestore_documents import FirestoreDocumentStore

        return FirestoreDocumentStore(project=_project(gcp), prefix=gcp.prefix)
    from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore

    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteDocumentStore(data_dir / "zookeeper.sqlite3")


def _blobs(kind: str, data_dir: Path, gcp: GcpSettings) -> tuple[BlobStore, dict[str, Any]]:
    if kind == "gcs":
        assert gcp.bucket is not None  # the config validator requires it
        connection = {
            "type": "gcs",
            "bucket": gcp.bucket,
            "prefix": gcp.prefix,
            "recordings_bucket": gcp.recordings_bucket_name,
        }
        return _gcs_blobs(connection, create_bucket=gcp.create_bucket), connection
    from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore

    local = LocalBlobStore(data_dir / "blobs")
    return local, {"type": "local", "root": str(local.root)}


def _gcs_blobs(connection: dict[str, Any], create_bucket: bool = False) -> BlobStore:
    """The checkpoints bucket, with recordings and exports routed to their own bucket when it differs."""
    from ainimal_zookeeper.adapters.gcp.gcs_blobs import GcsBlobStore

    bucket, prefix = connection["bucket"], connection["prefix"]
    store = GcsBlobStore(bucket, prefix=prefix, create_bucket=create_bucket)
    recordings = connection.get("recordings_bucket") or bucket
    if recordings == bucket:
        return store
    from ainimal_zookeeper.adapters.routed_blobs import PrefixRoutedBlobStore

    return PrefixRoutedBlobStore(store, GcsBlobStore(recordings, prefix=prefix, create_bucket=create_bucket))


def _buses(kind: str, gcp: GcpSettings) -> tuple[CommandBus, EventBus, dict[str, Any]]:
    if kind == "pubsub":
        from ainimal_zookeeper.adapters.gcp.pubsub_bus import PubSubCommandBus, PubSubEventBus

        project = _project(gcp)
        return (
            PubSubCommandBus(project, prefix=gcp.prefix, signing_secret=gcp.bus_signing_secret),
            PubSubEventBus(project, prefix=gcp.prefix, signing_secret=gcp.bus_signing_secret),
            {"type": "pubsub", "project": project, "prefix": gcp.prefix},
        )
    from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub

    hub = LocalBusHub()
    return hub, hub, hub.connection


def _with_bus_credentials(compute: ComputeProvider, commands: CommandBus, gcp: GcpSettings) -> ComputeProvider:
    """Each worker gets bus credentials of its own (the local hub's CURVE keys, a Pub/Sub signing key)."""
    from ainimal_zookeeper.adapters.worker_credentials import CredentialedCompute

    if type(commands).__name__ == "PubSubCommandBus" and gcp.bus_signing_secret:
        from ainimal_zookeeper.adapters.gcp.event_signing import worker_key

        secret = gcp.bus_signing_secret

        def issue(instance_id: str) -> dict[str, Any]:
            return {"signing_key": worker_key(secret, instance_id)}

        return CredentialedCompute(compute, issue, lambda _instance_id: None)
    if type(commands).__name__ == "PubSubCommandBus":
        _log.warning(
            "gcp.bus_signing_secret is not set: events and commands on Pub/Sub are believed whoever "
            "sent them; set it (or ZK_BUS_SIGNING_SECRET) so that a worker is believed only about its "
            "own instance and obeys only the control plane"
        )

    if type(commands).__name__ == "LocalBusHub":  # not isinstance: that would import zmq for Pub/Sub
        from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub

        assert isinstance(commands, LocalBusHub)
        return CredentialedCompute(compute, commands.worker_connection, commands.revoke)
    return compute


def _compute(
    kind: str,
    gcp: GcpSettings,
    threads_per_worker: int,
    environment: list[str] | None = None,
    cloud_credentials: bool = False,
) -> ComputeProvider:
    if kind == "gke":
        from ainimal_zookeeper.adapters.gcp.gke_compute import GkeCompute

        assert gcp.worker_image is not None
        return GkeCompute(
            namespace=gcp.namespace,
            image=gcp.worker_image,
            service_account=gcp.worker_ksa,
            cluster=gcp.gke_cluster_name,
            worker_paths=_worker_paths(gcp),
        )
    if kind == "cloud_run":
        from ainimal_zookeeper.adapters.gcp.cloud_run_compute import CloudRunCompute

        assert gcp.worker_image is not None and gcp.region is not None
        return CloudRunCompute(
            _project(gcp),
            gcp.region,
            gcp.worker_image,
            service_account=gcp.worker_service_account,
            worker_paths=_worker_paths(gcp),
        )
    from ainimal_zookeeper.adapters.local.process_compute import LocalProcessCompute

    local = LocalProcessCompute(
        WORKER_ENTRY,
        threads_per_worker=threads_per_worker,
        environment=environment or (),
        cloud_credentials=cloud_credentials,
    )
    threading.Thread(target=local.warm_up, name="zk-warm-up", daemon=True).start()
    return local


def _worker_paths(gcp: GcpSettings) -> WorkerPaths:
    """How catalog paths map into the worker image (the catalog root: the config's folder)."""
    from ainimal_zookeeper.adapters.worker_paths import WorkerPaths

    return WorkerPaths(gcp.catalog_root or Path.cwd(), gcp.worker_catalog_root)


def worker_ports(connection: dict[str, Any], instance_id: str) -> tuple[CommandInbox, EventOutbox, BlobStore]:
    """The adapters a worker uses, as its spec's `connection` names them.

    Raises:
        ConfigError: a backend type this build does not know.
    """
    inbox, outbox = _worker_buses(connection["bus"], instance_id)
    return inbox, outbox, _worker_blobs(connection["blobs"])


def worker_log_outbox(connection: dict[str, Any]) -> EventOutbox:
    """A second event outbox for a worker's log capture thread (the runtime's is not shared across threads)."""
    bus = connection["bus"]
    if bus["type"] == "pubsub":
        from ainimal_zookeeper.adapters.gcp.pubsub_bus import PubSubEventOutbox

        return PubSubEventOutbox(bus["project"], prefix=bus["prefix"], signing_key=bus.get("signing_key"))
    from ainimal_zookeeper.adapters.local.zmq_bus import LocalEventOutbox

    return LocalEventOutbox(bus["events"], bus)


def _worker_buses(bus: dict[str, Any], instance_id: str) -> tuple[CommandInbox, EventOutbox]:
    if bus["type"] == "pubsub":
        from ainimal_zookeeper.adapters.gcp.pubsub_bus import PubSubCommandInbox, PubSubEventOutbox

        return (
            PubSubCommandInbox(bus["project"], instance_id, prefix=bus["prefix"], signing_key=bus.get("signing_key")),
            PubSubEventOutbox(bus["project"], prefix=bus["prefix"], signing_key=bus.get("signing_key")),
        )
    if bus["type"] == "local":
        from ainimal_zookeeper.adapters.local.zmq_bus import LocalCommandInbox, LocalEventOutbox

        return LocalCommandInbox(bus["commands"], instance_id, bus), LocalEventOutbox(bus["events"], bus)
    raise ConfigError(f"worker connection: bus type {bus['type']!r} is not supported; expected 'local' or 'pubsub'")


def _worker_blobs(blobs: dict[str, Any]) -> BlobStore:
    if blobs["type"] == "gcs":
        return _gcs_blobs(blobs)
    if blobs["type"] == "local":
        from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore

        return LocalBlobStore(blobs["root"])
    raise ConfigError(f"worker connection: blobs type {blobs['type']!r} is not supported; expected 'local' or 'gcs'")
