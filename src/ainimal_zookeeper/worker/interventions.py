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
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.overrides import (
    ValueOverride,
    apply_value_override,
    override_function,
    parse_target,
    validate_override,
)
from ainimal_zookeeper.worker.torch_layers import ActivationPatch

TAKEOVERS = ("realtime", "lockstep")


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


class Interventions:
    """The overrides of one instance, applied step by step."""

    def __init__(
        self,
        input_modalities: dict[str, Any] | None,
        output_modalities: dict[str, Any] | None,
        layer_shapes: dict[str, list[int] | None],
        probe: Any = None,
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
            takeover = _Takeover(override, command.takeover, command.hold_seconds, command.timeout_seconds)
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

    def act(self, target: str, value: Any) -> None:
        """A person's next action for the takeover of `target` (None lets the AInimal act)."""
        kind, name = parse_target(target)
        takeover = self._takeovers.get(name) if kind == "outputs" else None
        if takeover is None:
            raise InvalidInput(f"no takeover of {target!r} is in force; start one with override(takeover: ...)")
        if value is not None:
            value = validate_override(
                target, "set", value, None, self.input_modalities, self.output_modalities, self.layer_shapes
            ).value
        self._offer(takeover, value)

    def _offer(self, takeover: _Takeover, value: Any) -> None:
        takeover.latest, takeover.latest_at = value, time.monotonic()
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
        now = time.monotonic()
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
        if takeover.hold_seconds is not None and now - takeover.latest_at > takeover.hold_seconds:
            return None
        return takeover.latest

    @property
    def takeover_active(self) -> bool:
        """Whether a person's takeover (realtime or lockstep) is in force: pacing then runs at realtime."""
        return bool(self._takeovers)
