"""Instances whose workers are gone: found at start, stopped at shutdown, killed when stuck."""

from __future__ import annotations

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.instance import ACTIVE_STATUSES, InstanceStatus
from ainimal_zookeeper.ports import ComputeProvider
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.service.command_sender import CommandSender
from ainimal_zookeeper.service.notifier import Changes
from ainimal_zookeeper.service.reaper import WorkerReaper
from ainimal_zookeeper.service.records import now_iso
from ainimal_zookeeper.service.repository import InstanceRepository


class KilledWorkers:
    """Says on a FAILED instance that its worker had to be killed (the reaper's `on_killed`;
    terminate says so itself)."""

    def __init__(self, instances: InstanceRepository, changes: Changes, grace: float) -> None:
        self.instances, self.changes, self.grace = instances, changes, grace

    def __call__(self, instance_id: str) -> None:
        found = self.instances.get(instance_id)
        if found is None or found.status is not InstanceStatus.FAILED:
            return
        killed = f"its worker did not stop within {self.grace:g}s and was killed"
        error = f"{found.error}; {killed}" if found.error else killed
        self.instances.update(instance_id, {"error": error, "updatedAt": now_iso()})
        self.changes.notify()


class Lifecycle:
    """`reconcile` at start, `stop_all` at shutdown, `worker_lost` for the liveness watch."""

    def __init__(
        self,
        instances: InstanceRepository,
        compute: ComputeProvider,
        sender: CommandSender,
        reaper: WorkerReaper,
        changes: Changes,
        grace: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.instances, self.compute, self.sender, self.reaper = instances, compute, sender, reaper
        self.changes, self.grace, self.clock = changes, grace, clock

    def reconcile(self) -> int:
        """Mark instances whose workers are gone as FAILED; returns how many were."""
        lost = 0
        for found in self.instances.find(ACTIVE_STATUSES):
            if self.compute.is_alive(found.id) is False:
                error = (
                    f"worker lost while {found.status.value} (the server restarted or the worker died); "
                    "launch a new instance from its last checkpoint"
                )
                ended = {"status": InstanceStatus.FAILED.value, "error": error, "endedAt": now_iso()}
                self.instances.update_if(found.id, None, ended)
                lost += 1
        return lost

    def stop_all(self, reason: str) -> None:
        """Ask every active instance's worker to stop (server shutdown); `reason` is recorded."""
        for found in self.instances.find(ACTIVE_STATUSES):
            self.sender.send(cmd.Terminate(found.id))
            self.instances.update_if(found.id, None, {"status": InstanceStatus.STOPPING.value, "error": reason})
        deadline = self.clock.monotonic() + self.grace
        while self.clock.monotonic() < deadline and self.instances.find([InstanceStatus.STOPPING]):
            self.changes.wait(0.05)
        for found in self.instances.find([InstanceStatus.STOPPING]):
            ended = {"status": InstanceStatus.TERMINATED.value, "endedAt": now_iso()}
            self.instances.update_if(found.id, None, ended)

    def worker_lost(self, instance_id: str) -> None:
        """An instance was FAILED for silence: ask its worker to stop, and kill it after the grace."""
        self.sender.send(cmd.Terminate(instance_id))
        self.reaper.reap(instance_id)
