"""Assemble the control plane: ports, sign-in, catalog, service, projection and the HTTP app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.bootstrap.access import Access, build_access
from ainimal_zookeeper.bootstrap.ports import control_plane_ports

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ainimal_zookeeper.api.browser_guards import BrowserPolicy
    from ainimal_zookeeper.api.http import GraphQLEndpoint
    from ainimal_zookeeper.config import ZookeeperConfig
    from ainimal_zookeeper.service.timeouts import Timeouts
    from ainimal_zookeeper.service.zookeeper import Zookeeper

log = logging.getLogger(__name__)


@dataclass
class ControlPlane:
    """A wired, running control plane plus what must be closed when it stops."""

    zookeeper: Zookeeper
    endpoint: GraphQLEndpoint
    http: Starlette
    closers: list[Any]
    #: Which Host names and page origins are answered (applied by `http`; the Cloud Function
    #: entry, which calls the endpoint itself, applies it too).
    browsers: BrowserPolicy
    access: Access | None = None
    #: Local workers die with their server, so it stops them; pods outlive any control-plane
    #: instance (a Cloud Function scales to zero without its instances stopping).
    stop_workers_on_close: bool = True

    def close(self) -> None:
        """Stop local workers, then release the bus, the processes and the store."""
        try:
            if self.stop_workers_on_close:
                self.zookeeper.lifecycle.stop_all("stopped when the server shut down")
        finally:
            for closer in self.closers:
                try:
                    closer()
                except Exception:  # keep closing the rest
                    log.exception("error while closing")


def build_control_plane(
    config: ZookeeperConfig,
    data_dir: Path,
    client_routes: Any = None,
    timeouts: Timeouts | None = None,
) -> ControlPlane:
    """Wire the server for `config`: local adapters unless `backends` names others.

    Raises:
        ConfigError: a backend or sign-in setting that cannot be used (nothing is left running).
    """
    # Imported here so that a worker, which only needs `worker_ports`, stays light.
    from ainimal_zookeeper.api.browser_guards import BrowserPolicy, HostAllowList
    from ainimal_zookeeper.api.executor import Executor
    from ainimal_zookeeper.api.http import GraphQLEndpoint, build_http_app
    from ainimal_zookeeper.api.schema import build_executable_schema
    from ainimal_zookeeper.bootstrap.model_hubs import build_model_hubs
    from ainimal_zookeeper.bootstrap.services import ServiceSettings, build_services
    from ainimal_zookeeper.catalog.catalog import Catalog
    from ainimal_zookeeper.catalog.validation import check_catalog
    from ainimal_zookeeper.config import load_environment
    from ainimal_zookeeper.service.event_stream import EventFanout
    from ainimal_zookeeper.service.limits import Limits
    from ainimal_zookeeper.service.liveness import LivenessWatch
    from ainimal_zookeeper.service.notifier import Notifier
    from ainimal_zookeeper.service.projection import Projection
    from ainimal_zookeeper.service.timeouts import Timeouts

    catalog = Catalog(
        models=[m.model_dump() for m in config.models],
        envs=[e.model_dump() for e in config.envs],
        hubs=[],
        model_hubs=build_model_hubs(config, data_dir),  # every hub, local folders included
        hub_wait_seconds=config.catalog.hub_wait_seconds,
        hub_refresh_seconds=config.catalog.hub_refresh_seconds,
    )
    # The config's own entries are checked before anything runs: a bad one stops the start
    # (naming the file, the key and the fix) unless catalog.lenient says to list it as unavailable.
    check_catalog(catalog, config.source, lenient=config.catalog.lenient)
    ports = control_plane_ports(config, data_dir)
    try:
        access = build_access(config, ports.documents)
        access.authenticator.ensure_initial_admin(load_environment(config.source_dir))
    except BaseException:
        for closer in ports.closers:
            closer()
        raise
    notifier = Notifier()
    # Firestore takes about one write a second per document: progress is written at 1 Hz there.
    progress_interval = 1.0 if config.backends.documents == "firestore" else 0.0
    projection = Projection(ports.documents, notifier, progress_interval)
    ports.events.subscribe(projection.apply)
    # Each open event or telemetry stream subscribes to the bus on its own (per-stream
    # Pub/Sub subscriptions in the cloud shape).
    fanout = EventFanout(ports.events)
    ports.compute.on_exit(projection.worker_exited)
    settings = ServiceSettings(
        timeouts=timeouts or Timeouts(terminate_grace=config.workers.stop_grace_seconds),
        limits=Limits(max_models=config.max_models, max_envs=config.max_envs),
        worker_connection=ports.worker_connection,
        torch_threads=config.workers.torch_threads,
        worker_settings={
            "train_slice_steps": config.workers.train_slice_steps,
            "recording_retry_seconds": config.workers.recording_retry,
            "max_input_age_seconds": config.workers.max_input_age_seconds,
        },
        telemetry_lease_seconds=config.workers.telemetry_lease_seconds,
        takeover_hold_seconds=config.workers.takeover_hold_seconds,
        takeover_timeout_seconds=config.workers.takeover_timeout_seconds,
    )
    zookeeper = build_services(
        catalog,
        ports.documents,
        ports.commands,
        ports.compute,
        access.authorizer,
        notifier,
        settings,
        fanout=fanout,
        events=ports.events,
        blobs=ports.blobs,
    )
    # A worker that ended: whatever its commands were waiting for is dropped.
    ports.compute.on_exit(lambda instance_id, _code: ports.commands.forget(instance_id))
    silence = config.workers.heartbeat_timeout
    liveness = LivenessWatch(
        ports.documents,
        notifier,
        max_silence=silence,
        interval=min(5.0, silence / 4),
        on_failed=zookeeper.lifecycle.worker_lost,
    )
    liveness.start()
    lost = zookeeper.lifecycle.reconcile()
    if lost:
        log.warning("%d instance(s) had no worker after the restart and are marked FAILED", lost)
    # List the model hubs in the background, each on a thread of its own: a slow hub holds no request.
    catalog.start_hubs()
    endpoint = GraphQLEndpoint(
        zookeeper,
        Executor(build_executable_schema()),
        access.authenticator,
        access.administration,
        requests_per_viewer=config.server.max_requests_per_viewer,
        requests_per_address=config.server.max_requests_per_address,
    )
    hosts = HostAllowList.for_server(config.server.host, config.server.allowed_hosts)
    browsers = BrowserPolicy(hosts, config.server.cors_origins)
    http = build_http_app(endpoint, client_routes, config.server.cors_origins, browsers)
    closers = [liveness.close, catalog.hub_listings.close, zookeeper.reaper.close, *ports.closers, access.close]
    return ControlPlane(
        zookeeper,
        endpoint,
        http,
        closers,
        browsers,
        access,
        stop_workers_on_close=config.backends.compute == "local",
    )
