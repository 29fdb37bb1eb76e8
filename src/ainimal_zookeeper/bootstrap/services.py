"""Wire the use-case services of the control plane from its ports (the composition of `service/`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ainimal_zookeeper.catalog.catalog import Catalog
    from ainimal_zookeeper.ports import BlobStore, CommandBus, ComputeProvider, DocumentStore, EventBus
    from ainimal_zookeeper.ports.authorization import Authorizer
    from ainimal_zookeeper.ports.clock import Clock
    from ainimal_zookeeper.service.event_stream import EventFanout
    from ainimal_zookeeper.service.limits import Limits
    from ainimal_zookeeper.service.notifier import Changes
    from ainimal_zookeeper.service.timeouts import Timeouts
    from ainimal_zookeeper.service.zookeeper import Zookeeper


@dataclass(frozen=True)
class ServiceSettings:
    """What the services take from the config."""

    timeouts: Timeouts
    limits: Limits
    #: How a worker reaches the buses (from the ports).
    worker_connection: dict[str, Any] = field(default_factory=dict)
    torch_threads: int = 1
    #: More `WorkerSpec` fields (timings of the worker).
    worker_settings: dict[str, Any] = field(default_factory=dict)
    telemetry_lease_seconds: float = 15.0
    takeover_hold_seconds: float = 5.0
    takeover_timeout_seconds: float = 5.0


def build_services(
    catalog: Catalog,
    documents: DocumentStore,
    commands: CommandBus,
    compute: ComputeProvider,
    authorizer: Authorizer,
    changes: Changes,
    settings: ServiceSettings,
    fanout: EventFanout | None = None,
    events: EventBus | None = None,
    blobs: BlobStore | None = None,
    clock: Clock | None = None,
    reaper_in_background: bool = True,
) -> Zookeeper:
    """The use cases over these ports; `clock` (the system's by default) for tests on a fake one."""
    from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK
    from ainimal_zookeeper.service.checkpoints import CheckpointService
    from ainimal_zookeeper.service.command_sender import CommandSender
    from ainimal_zookeeper.service.control import ControlService
    from ainimal_zookeeper.service.event_stream import EventFanout
    from ainimal_zookeeper.service.git_checkpoints import GitCheckpoints
    from ainimal_zookeeper.service.instance_access import InstanceAccess
    from ainimal_zookeeper.service.launching import LaunchService, WorkerLaunchSettings
    from ainimal_zookeeper.service.lifecycle import KilledWorkers, Lifecycle
    from ainimal_zookeeper.service.observation import ObservationService
    from ainimal_zookeeper.service.override_records import OverrideRepository
    from ainimal_zookeeper.service.overrides import OverrideService
    from ainimal_zookeeper.service.ownership import OwnershipService
    from ainimal_zookeeper.service.reaper import WorkerReaper
    from ainimal_zookeeper.service.recordings import RecordingService
    from ainimal_zookeeper.service.replays import ReplayService
    from ainimal_zookeeper.service.repository import (
        CheckpointRepository,
        CommandLog,
        InstanceRepository,
        RecordingRepository,
        ReplayRepository,
    )
    from ainimal_zookeeper.service.side_processes import SideProcessBoard
    from ainimal_zookeeper.service.telemetry import TelemetryService
    from ainimal_zookeeper.service.telemetry_hub import TelemetryHub
    from ainimal_zookeeper.service.zookeeper import Zookeeper

    clock = clock or SYSTEM_CLOCK
    timeouts = settings.timeouts
    instances, checkpoints = InstanceRepository(documents), CheckpointRepository(documents)
    recording_store, replay_store = RecordingRepository(documents), ReplayRepository(documents)
    access = InstanceAccess(instances, checkpoints, authorizer)
    sender = CommandSender(commands, CommandLog(documents, clock.time), instances, changes, clock)
    reaper = WorkerReaper(
        compute,
        timeouts.terminate_grace,
        on_killed=KilledWorkers(instances, changes, timeouts.terminate_grace),
        clock=clock.monotonic,
        background=reaper_in_background,
    )
    workers = WorkerLaunchSettings(settings.worker_connection, settings.torch_threads, dict(settings.worker_settings))
    recordings = RecordingService(
        catalog, access, instances, recording_store, sender, blobs, changes, timeouts.command, clock
    )
    hub = TelemetryHub(commands, events, settings.telemetry_lease_seconds) if events is not None else None
    # Checkpoints of models from git-backed hubs become tags too (read back from the blob store).
    git = GitCheckpoints(catalog, documents, blobs) if blobs is not None else None
    return Zookeeper(
        catalog=catalog,
        authorizer=authorizer,
        access=access,
        launching=LaunchService(
            catalog, access, instances, compute, sender, workers, settings.limits, timeouts.launch, clock, git=git
        ),
        control=ControlService(catalog, access, instances, sender, compute, reaper, timeouts),
        checkpoints=CheckpointService(catalog, access, instances, checkpoints, sender, timeouts.checkpoint, git=git),
        observation=ObservationService(access, documents, fanout or EventFanout(), events),
        telemetry=TelemetryService(access, hub, timeouts.command),
        overrides=OverrideService(
            access,
            instances,
            OverrideRepository(documents),
            sender,
            timeouts.command,
            settings.takeover_hold_seconds,
            settings.takeover_timeout_seconds,
            clock,
        ),
        recordings=recordings,
        replays=ReplayService(
            access, instances, recordings, recording_store, replay_store, sender, changes, timeouts.command, clock
        ),
        ownership=OwnershipService(instances),
        lifecycle=Lifecycle(instances, compute, sender, reaper, changes, timeouts.terminate_grace, clock),
        reaper=reaper,
        side_processes=SideProcessBoard(authorizer),  # launch_etc, attached by the entry point
    )
