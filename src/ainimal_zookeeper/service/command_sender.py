"""Commands to workers: recorded, sent, and (for most) waited for until the worker says.

Every use case that changes a running instance goes through `CommandSender`: the command is
recorded in the `commands` collection, sent on the bus, and the projection settles it
(applied or rejected) from the worker's answer.
"""

from __future__ import annotations

from collections.abc import Callable

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.statuses import CommandStatus
from ainimal_zookeeper.errors import Conflict, Unavailable
from ainimal_zookeeper.ports.bus import CommandBus
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.service.notifier import Changes
from ainimal_zookeeper.service.records import Instance
from ainimal_zookeeper.service.repository import CommandLog, InstanceRepository

#: How often a waiting request re-reads the store when nothing wakes it (the projection does).
POLL_SECONDS = 0.05


class CommandSender:
    """Sends commands to workers and waits for their verdicts or for an instance's status."""

    def __init__(
        self,
        commands: CommandBus,
        log: CommandLog,
        instances: InstanceRepository,
        changes: Changes,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.commands, self.log, self.instances = commands, log, instances
        self.changes, self.clock = changes, clock

    def send(self, command: cmd.Command) -> None:
        """Fire and forget: not recorded, not waited for (actions, renewals)."""
        self.commands.send(command)

    def send_recorded(self, command: cmd.Command) -> None:
        """Record, then send, without waiting."""
        self.log.record(command)
        self.commands.send(command)

    def forget(self, instance_id: str) -> None:
        """Drop whatever is still queued for the instance's worker (it has ended)."""
        self.commands.forget(instance_id)

    def send_and_wait(self, command: cmd.Command, timeout: float) -> None:
        """Send `command` and wait for the worker's verdict; a refusal becomes a Conflict."""
        self.send_recorded(command)
        deadline = self.clock.monotonic() + timeout
        while True:
            status, error = self.log.verdict(command.command_id)
            if status is CommandStatus.APPLIED:
                return
            if status is CommandStatus.REJECTED:
                raise Conflict(f"{command.kind} on instance {command.instance_id} failed: {error}")
            instance = self.instances.require(command.instance_id)
            if instance.status.is_final:
                raise Conflict(
                    f"instance {command.instance_id} ended ({instance.status.value}): {instance.error or ''}".rstrip(
                        ": "
                    )
                )
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise Unavailable(
                    f"the worker of instance {command.instance_id} did not confirm {command.kind} within {timeout:.0f}s; "
                    "the command stays queued and applies when the worker catches up"
                )
            self.changes.wait(min(remaining, POLL_SECONDS))

    def wait_for_status(self, instance_id: str, done: Callable[[InstanceStatus], bool], timeout: float) -> Instance:
        """The instance once `done(status)` holds, or as it is after `timeout` seconds."""
        deadline = self.clock.monotonic() + timeout
        while True:
            instance = self.instances.require(instance_id)
            remaining = deadline - self.clock.monotonic()
            if done(instance.status) or remaining <= 0:
                return instance
            self.changes.wait(min(remaining, POLL_SECONDS))
