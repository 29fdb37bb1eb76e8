"""Overrides and takeovers in force on this worker: what people put in place of the AInimal's own.

Inputs are replaced before `forward`, outputs after it (a human takeover is an output override
fed by `Act` commands), activations inside it through the probe's patch hooks. Every step that
used an override says so, with the override ids, so recordings and `train` can tell a person's
demonstration from the AInimal's own behaviour.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ainimal_zookeeper.domain.commands import SetOverride
from ainimal_zookeeper.domain.override_rules import TAKEOVERS
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.overrides import (
    ValueOverride,
    apply_value_override,
    override_function,
    parse_target,
    validate_override,
)
from ainimal_zookeeper.worker.torch_layers import ActivationPatch

#: A lockstep step never waits forever: this long when a takeover names no timeout.
DEFAULT_TIMEOUT_SECONDS = 5.0
#: Control goes back to the AInimal after this long without renewal or input, when none is named.
DEFAULT_HOLD_SECONDS = 5.0


@dataclass
class _Takeover:
    """A person steering one output: the latest action (realtime) or a queue of them (lockstep)."""

    override: ValueOverride
    flavour: str
    hold_seconds: float | None
    timeout_seconds: float
    latest: Any = None
    latest_at: float = 0.0
    queued: deque[Any] = field(default_factory=lambda: deque(maxlen=64))
    holder: str = "anonymous"
    lease_until: float = 0.0  # monotonic: renewed by RenewTakeover and by each action

    @property
    def hold(self) -> float:
        return self.hold_seconds if self.hold_seconds and self.hold_seconds > 0 else DEFAULT_HOLD_SECONDS

    @property
    def timeout(self) -> float:
        """How long a lockstep step waits (a missing or bad timeout is the default, never infinite)."""
        t = self.timeout_seconds
        return t if t is not None and 0 < t < float("inf") else DEFAULT_TIMEOUT_SECONDS


class Interventions:
    """The overrides of one instance, applied step by step."""

    def __init__(
        self,
        input_modalities: dict[str, Any] | None,
        output_modalities: dict[str, Any] | None,
        layer_shapes: dict[str, list[int] | None],
        probe: Any = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        max_input_age_seconds: float = 1.0,
    ) -> None:
        self.input_modalities = input_modalities or {}
        self.output_modalities = output_modalities or {}
        self.layer_shapes = layer_shapes
        self.probe = probe
        # Per modality: the override and its value, checked and converted once.
        self._inputs: dict[str, tuple[ValueOverride, Callable[[Any], Any]]] = {}
        self._outputs: dict[str, tuple[ValueOverride, Callable[[Any], Any]]] = {}
        self._takeovers: dict[str, _Takeover] = {}
        self._patches: dict[str, ActivationPatch] = {}
        self._ids: dict[str, tuple[str, str]] = {}  # override id -> (kind, name)
        self.clock, self.wall_clock = clock, wall_clock
        self.max_input_age_seconds = max_input_age_seconds
        self.dropped_inputs = 0  # actions that came later than max_input_age_seconds (reported in metrics)

    @property
    def active(self) -> bool:
        return bool(self._ids)

    def describe(self, override_id: str) -> tuple[str, str] | None:
        return self._ids.get(override_id)

    # changes

    def set(self, command: SetOverride) -> None:
        """Put an override in force, replacing any on the same target; raises InvalidInput."""
        kind, name = parse_target(command.target)
        if command.takeover is not None and command.takeover not in TAKEOVERS:
            raise InvalidInput(f"takeover must be one of {', '.join(TAKEOVERS)}, got {command.takeover!r}")
        if command.takeover and kind != "outputs":
            raise InvalidInput(f"a takeover steers an output (outputs/<modality>), not {command.target!r}")
        if kind == "activations" and self.probe is None:
            raise InvalidInput("this model has no torch layers, so there are no activations to override")
        # A takeover may start without an action yet (the AInimal acts until one comes).
        value = command.value
        if command.takeover and value is None:
            override = ValueOverride(command.override_id, command.target, "set", None, None, command.set_by)
        else:
            override = validate_override(
                command.target,
                command.mode,
                value,
                command.index,
                self.input_modalities,
                self.output_modalities,
                self.layer_shapes,
                override_id=command.override_id,
                set_by=command.set_by,
            )
        self._drop_target(command.target)
        self._ids[override.override_id] = (kind, name)
        if kind == "inputs":
            self._inputs[name] = (override, override_function(override, self.input_modalities.get(name)))
        elif kind == "outputs" and command.takeover:
            takeover = _Takeover(
                override,
                command.takeover,
                command.hold_seconds,
                command.timeout_seconds,
                holder=command.set_by or "anonymous",
            )
            takeover.lease_until = self.clock() + takeover.hold
            if value is not None:
                self._offer(takeover, override.value)
            self._takeovers[name] = takeover
        elif kind == "outputs":
            self._outputs[name] = (override, override_function(override, self.output_modalities.get(name)))
        else:
            self._patches[name] = override.as_patch()
            self.probe.set_patches(list(self._patches.values()))

    def clear(self, override_id: str) -> bool:
        """End an override; False when it was not in force."""
        where = self._ids.pop(override_id, None)
        if where is None:
            return False
        kind, name = where
        if kind == "inputs":
            self._inputs.pop(name, None)
        elif kind == "outputs":
            self._outputs.pop(name, None)
            self._takeovers.pop(name, None)
        else:
            self._patches.pop(name, None)
            self.probe.set_patches(list(self._patches.values()))
        return True

    def act(self, target: str, value: Any, sent_at: float | None = None) -> bool:
        """A person's next action for the takeover of `target` (None lets the AInimal act); renews its lease.

        Returns False (and counts it) for an action sent more than `max_input_age_seconds` ago:
        a late input is dropped, never applied late.
        """
        kind, name = parse_target(target)
        takeover = self._takeovers.get(name) if kind == "outputs" else None
        if takeover is None:
            raise InvalidInput(f"no takeover of {target!r} is in force; start one with override(takeover: ...)")
        if sent_at is not None and self.wall_clock() - sent_at > self.max_input_age_seconds:
            self.dropped_inputs += 1
            return False
        if value is not None:
            value = validate_override(
                target, "set", value, None, self.input_modalities, self.output_modalities, self.layer_shapes
            ).value
        self._offer(takeover, value)
        takeover.lease_until = self.clock() + takeover.hold
        return True

    def renew(self, override_id: str) -> bool:
        """The holder is still there: the takeover's lease runs another hold from now; False when gone."""
        where = self._ids.get(override_id)
        takeover = self._takeovers.get(where[1]) if where is not None and where[0] == "outputs" else None
        if takeover is None or takeover.override.override_id != override_id:
            return False
        takeover.lease_until = self.clock() + takeover.hold
        return True

    def expire(self) -> list[tuple[str, str, str]]:
        """Clear the takeovers whose lease ran out; returns (override id, target, holder) of each."""
        if not self._takeovers:
            return []
        now = self.clock()
        ended = [t for t in self._takeovers.values() if now >= t.lease_until]
        for takeover in ended:
            self.clear(takeover.override.override_id)
        return [(t.override.override_id, t.override.target, t.holder) for t in ended]

    def clear_all(self) -> list[tuple[str, str]]:
        """Clear every override and takeover; returns (override id, target) of each."""
        cleared = [(oid, f"{kind}/{name}") for oid, (kind, name) in self._ids.items()]
        for override_id, _target in cleared:
            self.clear(override_id)
        return cleared

    def waiting_for(self) -> str | None:
        """Who a lockstep step waits for, e.g. "lockstep takeover by alice"; None when nobody."""
        takeover = self.lockstep_waiting() if self._takeovers else None
        return f"lockstep takeover by {takeover.holder}" if takeover is not None else None

    def _offer(self, takeover: _Takeover, value: Any) -> None:
        takeover.latest, takeover.latest_at = value, self.clock()
        if takeover.flavour == "lockstep" and value is not None:
            takeover.queued.append(value)

    def _drop_target(self, target: str) -> None:
        for override_id, (kind, name) in list(self._ids.items()):
            if f"{kind}/{name}" == target:
                self.clear(override_id)

    # per step

    def lockstep_waiting(self) -> _Takeover | None:
        """A lockstep takeover still waiting for this step's human action, if any."""
        for takeover in self._takeovers.values():
            if takeover.flavour == "lockstep" and not takeover.queued:
                return takeover
        return None

    def apply_inputs(self, inputs: dict[str, Any], used: list[str]) -> dict[str, Any]:
        if not self._inputs:
            return inputs
        changed = dict(inputs)
        for name, (override, apply) in self._inputs.items():
            if name in changed:
                changed[name] = apply(changed[name])
                used.append(override.override_id)
        return changed

    def apply_outputs(self, outputs: dict[str, Any], used: list[str]) -> dict[str, Any]:
        if not self._outputs and not self._takeovers:
            return outputs
        changed = dict(outputs)
        for name, (override, apply) in self._outputs.items():
            changed[name] = apply(changed.get(name))
            used.append(override.override_id)
        now = self.clock()
        for name, takeover in self._takeovers.items():
            human = self._human_action(takeover, now)
            if human is not None:
                forced = ValueOverride(takeover.override.override_id, takeover.override.target, "set", human)
                changed[name] = apply_value_override(changed.get(name), forced, self.output_modalities.get(name))
                used.append(takeover.override.override_id)
        return changed

    def patched_layers(self) -> list[str]:
        """Override ids of activation patches (they apply to every forward while in force)."""
        return self._patch_ids

    @property
    def _patch_ids(self) -> list[str]:
        return [oid for oid, (kind, _name) in self._ids.items() if kind == "activations"] if self._patches else []

    @staticmethod
    def _human_action(takeover: _Takeover, now: float) -> Any:
        if takeover.flavour == "lockstep":
            return takeover.queued.popleft() if takeover.queued else None
        if takeover.latest is None:
            return None
        if now >= takeover.lease_until:  # its person went: the lease, renewed by each action, ran out
            return None
        return takeover.latest

    @property
    def takeover_active(self) -> bool:
        """Whether a person's takeover (realtime or lockstep) is in force: pacing then runs at realtime."""
        return bool(self._takeovers)
