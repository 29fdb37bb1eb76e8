"""Override commands on a worker: set, clear, emergency stop and takeover leases, each announced.

The overrides themselves (what is in force, how each step applies it) are `Interventions`;
this module turns commands into changes to them and tells the control plane (OverrideChanged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import ZookeeperError
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.worker.interventions import Interventions

log = logging.getLogger(__name__)


class Steering:
    """Applies override commands and inputs to `interventions` (set once the instance is built)."""

    def __init__(self, instance_id: str, outbox: EventOutbox, step: Callable[[], int]) -> None:
        self.instance_id, self.outbox, self.step = instance_id, outbox, step
        self.interventions: Interventions | None = None

    def _in_force(self) -> Interventions:
        assert self.interventions is not None  # commands are polled once the instance is built
        return self.interventions

    def override(self, command: cmd.SetOverride | cmd.ClearOverride) -> None:
        """Put an override in force, or clear one (announced only if it was in force)."""
        interventions = self._in_force()
        if isinstance(command, cmd.SetOverride):
            interventions.set(command)
            self.announce(command.override_id, command.target, command.mode, True, command.set_by, command.takeover)
            return
        where = interventions.describe(command.override_id)
        if interventions.clear(command.override_id) and where is not None:
            self.announce(command.override_id, "/".join(where), "", False, None, None)

    def emergency_stop(self) -> None:
        """Clear every override and takeover (the instance pauses too)."""
        for override_id, target in self._in_force().clear_all():
            self.announce(override_id, target, "", False, None, None, reason="emergency stop")

    def act(self, command: cmd.Act) -> None:
        """A person's action, many a second: applied without confirmation events."""
        try:
            self._in_force().act(command.target, command.value, command.sent_at)
        except ZookeeperError as exc:
            log.info("action for %s ignored: %s", command.target, exc)

    def renew(self, command: cmd.RenewTakeover) -> None:
        """A takeover's holder is still there (fire and forget, like Act)."""
        self._in_force().renew(command.override_id)

    def expire_takeovers(self) -> None:
        """Give control back to the AInimal where a takeover's holder stopped renewing it."""
        for override_id, target, holder in self._in_force().expire():
            log.info("takeover %s of %s by %s: lease expired", override_id, target, holder)
            self.announce(override_id, target, "", False, None, None, reason="takeover lease expired")

    def announce(
        self,
        override_id: str,
        target: str,
        mode: str,
        active: bool,
        set_by: str | None,
        takeover: str | None,
        reason: str | None = None,
    ) -> None:
        """Tell the control plane an override came into force or ended (OverrideChanged)."""
        self.outbox.publish(
            ev.OverrideChanged(
                self.instance_id,
                override_id=override_id,
                target=target,
                mode=mode,
                active=active,
                set_by=set_by,
                takeover=takeover,
                step=self.step(),
                reason=reason,
            )
        )
