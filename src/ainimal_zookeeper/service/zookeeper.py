"""The application's use cases, side by side: what the API is given to answer requests.

`Zookeeper` holds no logic: it is the container `bootstrap/control_plane.py` fills with the
use-case services, each built there with its own dependencies (ports, repositories, the
shared `InstanceAccess` look-ups and the `CommandSender`). Find a feature by its use case:

- `launching` (`service/launching.py`): models, environments, launch.
- `control` (`service/control.py`): pause, resume, pace, mode, public, terminate.
- `checkpoints` (`service/checkpoints.py`): look up, save, restore.
- `observation` (`service/observation.py`): instance events, logs, metric history;
  `telemetry` (`service/telemetry.py`): live frames.
- `overrides` (`service/overrides.py`): overrides, takeovers, actions, emergency stop.
- `recordings` / `replays` (`service/recordings.py`, `service/replays.py`).
- `ownership` (`service/ownership.py`): disown a deleted account's instances.
- `lifecycle` (`service/lifecycle.py`): reconcile at start, stop all at shutdown, lost workers.
- `access` (`service/instance_access.py`): which instances a viewer may see and act on.
- `side_processes` (`service/side_processes.py`): the `launch_etc` commands and how they ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.ports.authorization import Authorizer
from ainimal_zookeeper.service.checkpoints import CheckpointService
from ainimal_zookeeper.service.control import ControlService
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.launching import LaunchRequest, LaunchService
from ainimal_zookeeper.service.lifecycle import Lifecycle
from ainimal_zookeeper.service.observation import ObservationService
from ainimal_zookeeper.service.overrides import OverrideService
from ainimal_zookeeper.service.ownership import OwnershipService
from ainimal_zookeeper.service.reaper import WorkerReaper
from ainimal_zookeeper.service.recordings import RecordingService
from ainimal_zookeeper.service.replays import ReplayService
from ainimal_zookeeper.service.side_processes import SideProcessBoard
from ainimal_zookeeper.service.telemetry import TelemetryService
from ainimal_zookeeper.service.timeouts import Timeouts


@dataclass(frozen=True)
class Zookeeper:
    """The use-case services, built and wired in `bootstrap/control_plane.py`."""

    catalog: Catalog
    authorizer: Authorizer
    access: InstanceAccess
    launching: LaunchService
    control: ControlService
    checkpoints: CheckpointService
    observation: ObservationService
    telemetry: TelemetryService
    overrides: OverrideService
    recordings: RecordingService
    replays: ReplayService
    ownership: OwnershipService
    lifecycle: Lifecycle
    reaper: WorkerReaper
    side_processes: SideProcessBoard


#: `LaunchRequest` and `Timeouts` are named here too, where callers have always found them.
__all__ = ["LaunchRequest", "Timeouts", "Zookeeper"]
