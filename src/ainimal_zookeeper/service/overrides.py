"""Overrides and takeovers, as the API sets and clears them.

Values are checked here against the instance's modalities and layer shapes (from its
architecture) so a bad request fails before it reaches the worker, which checks again.
Who set what and when is kept in the `overrides` collection and announced in the
instance's events; a takeover's stream of human actions (`act`) writes nothing to the store.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.override_rules import TAKEOVERS, parse_target, validate_override
from ainimal_zookeeper.errors import Conflict, Forbidden, InvalidInput, NotFound
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.service.command_sender import CommandSender
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.override_records import Override, OverrideRepository
from ainimal_zookeeper.service.records import Instance, now_iso
from ainimal_zookeeper.service.repository import InstanceRepository

MODES = ("set", "add", "scale", "clamp")


class OverrideService:
    """`override`, `clearOverride`, `act` and the overrides in force on an instance."""

    def __init__(
        self,
        access: InstanceAccess,
        instances: InstanceRepository,
        overrides: OverrideRepository,
        sender: CommandSender,
        command_timeout: float = 5.0,
        hold_seconds: float = 5.0,
        timeout_seconds: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """`overrides` holds who set what; `hold_seconds` and `timeout_seconds` are the defaults of
        takeovers that name none."""
        self.access, self.instances, self.overrides, self.sender = access, instances, overrides, sender
        self.command_timeout, self.hold_seconds, self.timeout_seconds = command_timeout, hold_seconds, timeout_seconds
        self.clock = clock
        # When each takeover's lease ends as this control plane last renewed it (the worker enforces
        # it; this only answers `leaseExpiresAt` without a store write per renewal).
        self._leases: dict[str, float] = {}

    def override(
        self,
        viewer: Viewer,
        instance_id: str,
        target: str,
        value: Any,
        mode: str = "set",
        index: Any = None,
        takeover: str | None = None,
        hold_seconds: float | None = None,
        timeout_seconds: float | None = None,
    ) -> Override:
        doc = self.access.controllable(viewer, instance_id, "override", "override")
        mode = (mode or "set").lower()
        _check_request(target, mode, takeover, hold_seconds, timeout_seconds)
        if not (takeover and value is None):
            architecture = doc.architecture or {}
            validate_override(
                target,
                mode,
                value,
                index,
                architecture.get("inputModalities"),
                architecture.get("outputModalities"),
                _layer_shapes(architecture),
            )
        override_id = uuid.uuid4().hex[:16]
        if takeover and hold_seconds is None:
            hold_seconds = self.hold_seconds
        command = cmd.SetOverride(
            instance_id,
            override_id=override_id,
            target=target,
            mode=mode,
            value=value,
            index=index,
            takeover=takeover,
            hold_seconds=hold_seconds,
            timeout_seconds=timeout_seconds if timeout_seconds is not None else self.timeout_seconds,
            set_by=_holder(viewer),
        )
        previous = [o.id for o in self.in_force(instance_id) if o.target == target]
        record = Override(
            id=override_id,
            instance=instance_id,
            target=target,
            value=value,
            mode=mode,
            index=index,
            takeover=takeover,
            hold_seconds=hold_seconds,
            timeout_seconds=command.timeout_seconds,
            set_by=viewer.username,
            holder=_holder(viewer) if takeover else None,
            created_at=now_iso(),
            active=True,
        )
        # Stored before the worker applies it, so a lease that ends at once finds it to mark ended.
        self.overrides.create(record)
        try:
            self.sender.send_and_wait(command, self.command_timeout)
        except Exception:
            self._mark_cleared(override_id, viewer)
            raise
        # An override on the same target replaces the one before it (the worker did the same).
        for previous_id in previous:
            self._mark_cleared(previous_id, viewer)
        if takeover:
            # Forget leases long past (the worker ended them; nothing renews them any more).
            stale = self.clock.time() - 3600
            for old in [oid for oid, until in self._leases.items() if until < stale]:
                del self._leases[old]
            record = self._lease_until(override_id, self.clock.time() + float(hold_seconds or self.hold_seconds))
        return self._with_lease(record)

    def clear(self, viewer: Viewer, instance_id: str, override_id: str) -> bool:
        """End an override; False when it had already ended."""
        visible = self.access.visible(viewer, instance_id)
        self.access.authorize(viewer, "override", visible)
        record = self.overrides.get(override_id)
        if record is None or record.instance != instance_id:
            raise NotFound(f"instance {instance_id} has no override {override_id!r}")
        if not record.active:
            return False
        doc = self.access.controllable(viewer, instance_id, "override", "clear an override of")
        if doc.status in (InstanceStatus.RUNNING, InstanceStatus.PAUSED):
            self.sender.send_and_wait(cmd.ClearOverride(instance_id, override_id=override_id), self.command_timeout)
        self._mark_cleared(override_id, viewer)
        return True

    def act(self, viewer: Viewer, instance_id: str, value: Any, target: str = "outputs/action") -> bool:
        """Send a person's action to the takeover of `target` (None lets the AInimal act)."""
        doc = self.access.controllable(viewer, instance_id, "override", "act for")
        takeovers = [o for o in self.in_force(instance_id) if o.target == target and o.takeover]
        if not takeovers:
            raise Conflict(f"no takeover of {target!r} is in force on instance {instance_id}; start one first")
        # One person drives at a time: another viewer's actions would fight the holder's (and
        # renew a lease its holder abandoned). They may clear the takeover, then take over.
        holders = {o.holder_name for o in takeovers}
        if _holder(viewer) not in holders:
            held_by = ", ".join(sorted(holders))
            raise Forbidden(
                f"the takeover of {target!r} on instance {instance_id} is held by {held_by}; only its holder "
                "may act (clear it with clearOverride, then take over)"
            )
        if value is not None:
            architecture = doc.architecture or {}
            validate_override(
                target,
                "set",
                value,
                None,
                architecture.get("inputModalities"),
                architecture.get("outputModalities"),
                _layer_shapes(architecture),
            )
        # Fire and forget: actions come many a second and each one supersedes the last. An action
        # also renews the takeover's lease; the worker drops one that arrives too late.
        self.sender.send(cmd.Act(instance_id, target=target, value=value, sent_at=self.clock.time()))
        for record in self.in_force(instance_id):
            if record.target == target and record.takeover and record.id in self._leases:
                self._leases[record.id] = self.clock.time() + (record.hold_seconds or self.hold_seconds)
        return True

    def renew(self, viewer: Viewer, instance_id: str, override_id: str) -> Override:
        """The holder is still there: the takeover's lease runs `holdSeconds` from now."""
        self.access.controllable(viewer, instance_id, "override", "renew a takeover of")
        record = self.overrides.get(override_id)
        if record is None or record.instance != instance_id:
            raise NotFound(f"instance {instance_id} has no override {override_id!r}")
        if not record.takeover:
            raise InvalidInput(f"override {override_id} is not a takeover; only takeovers are renewed")
        if not record.active:
            why = record.cleared_reason or (f"cleared by {record.cleared_by}" if record.cleared_by else "cleared")
            raise Conflict(f"takeover {override_id} has ended ({why}); start a new one with override(takeover: ...)")
        holder = record.holder_name
        if holder != _holder(viewer):
            raise Forbidden(f"takeover {override_id} is held by {holder}; only its holder may renew it")
        self.sender.send(cmd.RenewTakeover(instance_id, override_id=override_id))
        until = self.clock.time() + (record.hold_seconds or self.hold_seconds)
        return self._with_lease(self._lease_until(override_id, until))

    def emergency_stop(self, viewer: Viewer, instance_id: str) -> Instance:
        """Pause now and clear every override and takeover of the instance, in one command."""
        self.access.controllable(viewer, instance_id, "control", "stop")
        self.sender.send_and_wait(cmd.EmergencyStop(instance_id), self.command_timeout)
        for record in self.in_force(instance_id):
            self._mark_cleared(record.id, viewer)
        return self.instances.require(instance_id)

    def in_force(self, instance_id: str) -> list[Override]:
        """The overrides and takeovers in force on the instance (none once it has ended), oldest first."""
        instance = self.instances.get(instance_id)
        if instance is None or instance.status.is_final:
            return []
        return [self._with_lease(record) for record in self.overrides.of_instance(instance_id) if record.active]

    def _lease_until(self, override_id: str, until: float) -> Override:
        """Record when a takeover's lease ends, here and in the store; the stored record."""
        self._leases[override_id] = until
        # Stored too (one write per renewal, every few seconds): other API processes (the cloud
        # function's instances) show the lease as well. Actions renew it only here: they come
        # many a second and the worker keeps the lease that counts.
        return self.overrides.set_lease(override_id, until)

    def _with_lease(self, record: Override) -> Override:
        if not record.active:
            return record
        expires = max(self._leases.get(record.id, 0.0), record.lease_until or 0.0)
        if not expires:
            return record
        return dataclasses.replace(record, lease_expires_at=datetime.fromtimestamp(expires, UTC).isoformat())

    def _mark_cleared(self, override_id: str, viewer: Viewer) -> None:
        self._leases.pop(override_id, None)
        self.overrides.mark_cleared(override_id, viewer.username)


#: The longest a takeover holds without renewal or input (an hour).
MAX_HOLD_SECONDS = 3600.0


def _check_request(
    target: str, mode: str, takeover: str | None, hold_seconds: float | None, timeout_seconds: float | None
) -> None:
    kind, _name = parse_target(target)
    if mode not in MODES:
        raise InvalidInput(f"override mode must be one of {', '.join(MODES)}, got {mode!r}")
    if takeover is None:
        return
    if takeover not in TAKEOVERS:
        raise InvalidInput(f"takeover must be one of {', '.join(TAKEOVERS)}, got {takeover!r}")
    if kind != "outputs" or mode != "set":
        raise InvalidInput(f"a takeover sets an output (outputs/<modality>, mode set), not {mode} {target!r}")
    if hold_seconds is not None and not 0 < hold_seconds <= MAX_HOLD_SECONDS:
        # Bounded: a takeover is meant to end when its person goes, not to outlive them by days.
        raise InvalidInput(f"holdSeconds must be above 0 and at most {MAX_HOLD_SECONDS:g}, got {hold_seconds}")
    if timeout_seconds is not None and not 0 < timeout_seconds <= 600:
        raise InvalidInput(f"timeoutSeconds must be in (0, 600], got {timeout_seconds}")


def _holder(viewer: Viewer) -> str:
    """Who holds a takeover the viewer sets: its username, or "anonymous"."""
    return viewer.username or "anonymous"


def _layer_shapes(architecture: dict[str, Any]) -> dict[str, list[int] | None]:
    return {layer["name"]: layer.get("output_shape") for layer in architecture.get("layers") or []}
