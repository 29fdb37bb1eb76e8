"""A frame's inputs and outputs reach the control plane as JSON a browser parses, although the
worker hands them to the bus unconverted (the bus's encoding writes numpy values itself)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ainimal_zookeeper import wire
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.streams import parse_streams
from ainimal_zookeeper.sdk.modalities import to_json
from ainimal_zookeeper.worker.telemetry import TelemetryCapture

INPUTS = {
    "observation": np.array([0.5, np.nan, np.inf, -np.inf], dtype=np.float32),
    "pixels": np.arange(6, dtype=np.uint8).reshape(2, 3),
    "strided": np.arange(8.0)[::2],  # not contiguous: the bus takes the slow path
    "nested": {"position": np.float64(1.25), 3: (np.int64(7), np.bool_(True))},
}
OUTPUTS = {"action": np.int64(1), "logits": np.array([[0.1, -np.inf]]), "tags": frozenset({"greedy"})}


def wire_frame(streams: dict) -> dict:
    """The frame's streams as a subscriber decodes them off the bus."""
    event = ev.TelemetryFrame("i", step=1, episode=0, streams=streams)
    return ev.event_from_dict(wire.loads(wire.dumps(event.to_dict()))).streams  # type: ignore[attr-defined]


def test_inputs_and_outputs_arrive_as_to_json_would_have_made_them_nan_and_infinities_as_null():
    capture = TelemetryCapture(agent=object(), env=None, layers={})
    streams = capture.streams(
        parse_streams(["inputs", "outputs", "reward"]),
        inputs=INPUTS,
        outputs=OUTPUTS,
        reward=np.float32(1.0),
        metrics={},
        activations=None,
    )
    decoded = wire_frame(streams)
    assert decoded["inputs"] == to_json(INPUTS)
    assert decoded["outputs"] == to_json(OUTPUTS)
    assert decoded["inputs"]["observation"] == [0.5, None, None, None]
    assert decoded["reward"] == 1.0
    json.loads(wire.dumps({"streams": streams}).decode(), parse_constant=no_constant)  # what browsers parse


def no_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON a browser parses")


def test_the_frame_holds_its_own_dicts_not_the_steps():
    capture = TelemetryCapture(agent=object(), env=None, layers={})
    inputs: dict[str, Any] = {"observation": np.zeros(2)}
    streams = capture.streams(
        parse_streams(["inputs"]), inputs=inputs, outputs=None, reward=None, metrics={}, activations=None
    )
    inputs["observation"] = "changed later"
    assert isinstance(streams["inputs"]["observation"], np.ndarray)
