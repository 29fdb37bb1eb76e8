"""Command dispatch: a table from command type to handler, applied once whatever the bus repeats.

Inputs (`Act`, `RenewTakeover`) come many a second and are fire and forget: acknowledged at
once, applied without a confirmation. Every other command is confirmed (CommandApplied, with
where the instance stands) or rejected (CommandRejected, with the error); a failed command
leaves the instance running. The bus delivers at least once, so ids already applied are
remembered for minutes (`SeenIds`): an input seen before is dropped, a command seen before is
confirmed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.bus import CommandInbox, EventOutbox
from ainimal_zookeeper.worker.seen_ids import SeenIds
from ainimal_zookeeper.worker.user_code import describe

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]
#: The instance's (status, mode, step, episode), for confirmations.
Standing = Callable[[], tuple[str, str, int, int]]


class CommandTable:
    """Applies commands through `handlers` (command type -> handler) and `inputs` (the same, for inputs).

    A command type with no handler is confirmed and does nothing.
    """

    def __init__(
        self,
        instance_id: str,
        inbox: CommandInbox,
        outbox: EventOutbox,
        handlers: Mapping[type[cmd.Command], Handler],
        inputs: Mapping[type[cmd.Command], Handler],
        standing: Standing,
        confirmed: Callable[[], None],
        seen: Callable[[], SeenIds] = SeenIds,
    ) -> None:
        """`seen` makes the memories of applied ids (a test's runs on a controlled clock)."""
        self.instance_id = instance_id
        self.inbox, self.outbox = inbox, outbox
        self.handlers = dict(handlers)
        self.inputs = dict(inputs)
        self.standing = standing
        self.confirmed = confirmed  # after each confirmation (the runtime publishes progress soon)
        self._applied = seen()
        self._inputs_seen = seen()  # input ids: a resent one counts once

    def apply_all(self, commands: Iterable[cmd.Command]) -> None:
        """Apply `commands` in order, an emergency stop before whatever else came with it (a stable sort)."""
        for command in sorted(commands, key=_not_emergency):
            self.apply(command)

    def apply(self, command: cmd.Command) -> None:
        """Apply one command (or input) at most once."""
        on_input = self.inputs.get(type(command))
        if on_input is not None:
            self.inbox.ack(command)
            if command.command_id in self._inputs_seen:
                return  # the bus delivers at least once
            self._inputs_seen.add(command.command_id)
            on_input(command)
            return
        if command.command_id in self._applied:
            self.inbox.ack(command)
            self._confirm(command)
            return
        handler = self.handlers.get(type(command))
        try:
            if handler is not None:
                handler(command)
        except Exception as exc:  # noqa: BLE001  # a failed command leaves the instance running
            log.warning("command %s failed: %s", command.kind, describe(exc))
            self.outbox.publish(
                ev.CommandRejected(
                    self.instance_id,
                    command_id=command.command_id,
                    command_kind=command.kind,
                    error=describe(exc),
                )
            )
        else:
            self._confirm(command)
        self._applied.add(command.command_id)
        self.inbox.ack(command)

    def _confirm(self, command: cmd.Command) -> None:
        status, mode, step, episode = self.standing()
        self.outbox.publish(
            ev.CommandApplied(
                self.instance_id,
                command_id=command.command_id,
                command_kind=command.kind,
                status=status,
                mode=mode,
                step=step,
                episode=episode,
            )
        )
        self.confirmed()


def _not_emergency(command: cmd.Command) -> bool:
    return not isinstance(command, cmd.EmergencyStop)
