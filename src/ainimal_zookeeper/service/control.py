"""Controlling a running instance: pause, resume, pace, mode, public, terminate."""

from __future__ import annotations

import logging
from typing import Any

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus, parse_mode
from ainimal_zookeeper.ports import ComputeProvider
from ainimal_zookeeper.service import pacing
from ainimal_zookeeper.service.command_sender import CommandSender
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.launching import require_mode
from ainimal_zookeeper.service.reaper import WorkerReaper
from ainimal_zookeeper.service.records import Instance, now_iso
from ainimal_zookeeper.service.repository import InstanceRepository
from ainimal_zookeeper.service.timeouts import Timeouts

log = logging.getLogger(__name__)

_ENDED = (InstanceStatus.TERMINATED, InstanceStatus.FAILED)


class ControlService:
    """`pause`, `resume`, `setPace`, `setMode`, `setPublic` and `terminate`."""

    def __init__(
        self,
        catalog: Catalog,
        access: InstanceAccess,
        instances: InstanceRepository,
        sender: CommandSender,
        compute: ComputeProvider,
        reaper: WorkerReaper,
        timeouts: Timeouts,
    ) -> None:
        self.catalog, self.access, self.instances = catalog, access, instances
        self.sender, self.compute, self.reaper, self.timeouts = sender, compute, reaper, timeouts

    def pause(self, viewer: Viewer, instance_id: str) -> Instance:
        found = self.access.controllable(viewer, instance_id, "control", "pause")
        if found.status is InstanceStatus.PAUSED:
            return found
        self.sender.send_and_wait(cmd.Pause(instance_id), self.timeouts.command)
        return self.instances.require(instance_id)

    def set_pace(self, viewer: Viewer, instance_id: str, pace: Any, realtime: Any) -> Instance:
        """At most `pace` steps a second (None: as fast as it goes), or the env's realtime rate."""
        value, realtime = pacing.validate_pace(pace, realtime)
        self.access.controllable(viewer, instance_id, "control", "pace")
        self.sender.send_and_wait(cmd.SetPace(instance_id, pace=value, realtime=realtime), self.timeouts.command)
        return self.instances.require(instance_id)

    def resume(self, viewer: Viewer, instance_id: str) -> Instance:
        found = self.access.controllable(viewer, instance_id, "control", "resume")
        if found.status is InstanceStatus.RUNNING:
            return found
        self.sender.send_and_wait(cmd.Resume(instance_id), self.timeouts.command)
        return self.instances.require(instance_id)

    def set_mode(self, viewer: Viewer, instance_id: str, mode_name: str) -> Instance:
        mode = parse_mode(mode_name)
        found = self.access.controllable(
            viewer, instance_id, "train" if mode.learns else "control", "change the mode of"
        )
        require_mode(self.catalog.model(found.model), mode)
        if found.mode is not mode:
            self.sender.send_and_wait(cmd.SetMode(instance_id, mode=mode.value), self.timeouts.command)
        return self.instances.require(instance_id)

    def set_public(self, viewer: Viewer, instance_id: str, public: bool) -> Instance:
        """Let anybody, signed in or not, watch the instance (or stop that); needs `manage` on it."""
        found = self.access.visible(viewer, instance_id)
        self.access.authorize(viewer, "manage", found)
        if found.public != public:
            self.instances.update(instance_id, {"public": public, "updatedAt": now_iso()})
            log.info("%s marked instance %s %s", viewer.username, instance_id, "public" if public else "private")
        return self.instances.require(instance_id)

    def terminate(self, viewer: Viewer, instance_id: str) -> Instance:
        found = self.access.visible(viewer, instance_id)
        self.access.authorize(viewer, "control", found)
        if found.status.is_final:
            self.reaper.reap(instance_id)  # a FAILED instance's worker may still run, stuck
            return found
        self.instances.update_if(instance_id, None, {"status": InstanceStatus.STOPPING.value})
        self.sender.send_recorded(cmd.Terminate(instance_id))
        grace = self.timeouts.terminate_grace
        final = self.sender.wait_for_status(instance_id, lambda s: s in _ENDED, grace)
        if final.status not in _ENDED:
            # The worker did not stop by itself (a step stuck in user code): kill its process,
            # after saying so (its exit by a signal must not read as a failure).
            killed = f"its worker did not stop within {grace:g}s of terminate and was killed"
            ended = {"status": InstanceStatus.TERMINATED.value, "endedAt": now_iso(), "error": killed}
            self.instances.update_if(instance_id, InstanceStatus.STOPPING, ended)
            self.compute.stop(instance_id, grace_seconds=0)
        else:
            self.reaper.reap(instance_id)  # it stopped stepping; its process has the grace to end
        self.sender.forget(instance_id)
        return self.instances.require(instance_id)
