"""Turn one step's values into a telemetry frame: JSON per stream, only the streams asked for.

Runs on sampled steps only (a few dozen times a second at most), on the agent's thread: the
env render is compressed, activations and weights are summarised when large, and the
statistics of small activations are left to the control plane.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.wrappers import json_safe
from ainimal_zookeeper.domain.streams import StreamSelection
from ainimal_zookeeper.worker.frames import encode_frame, render_rgb
from ainimal_zookeeper.worker.weights import weight_summaries

log = logging.getLogger(__name__)

#: Tensors up to this many numbers go out whole (a heatmap's worth); larger ones as statistics.
MAX_LISTED_VALUES = 4096
#: Renders wider than this are scaled down before they are sent.
MAX_FRAME_WIDTH = 640
#: Weights change when the model trains (or is restored), which the runtime reports; otherwise
#: their summaries are recomputed at most this often (a large model's histograms at 60 Hz
#: would cost the agent a good share of its time).
WEIGHTS_EVERY_SECONDS = 1.0


def activation_json(values: np.ndarray) -> dict[str, Any]:
    """One layer's output: its shape and values when it is small (the control plane adds their
    statistics: `service/activation_summaries.py`), statistics alone when it is large."""
    array = np.asarray(values)
    if array.size <= MAX_LISTED_VALUES:
        # Summarising here cost a sampled step about 100 µs on the agent's thread (six small
        # layers; cold code between the agent's steps costs several times its warm time).
        return {"shape": list(array.shape), "values": array}  # the bus encodes arrays itself
    described: dict[str, Any] = {"shape": list(array.shape)}
    if array.dtype.kind in "fiub":
        # np.mean and np.std's arithmetic without their Python-level wrappers.
        flat = array.astype(np.float64, copy=False)
        mean = np.add.reduce(flat, axis=None) / flat.size
        deviation = flat - mean
        variance = np.add.reduce(deviation * deviation, axis=None) / flat.size
        described.update(mean=float(mean), std=float(np.sqrt(variance)), min=float(flat.min()), max=float(flat.max()))
    described["truncated"] = True
    return described


class TelemetryCapture:
    """Builds frames for one agent and env."""

    def __init__(self, agent: Any, env: Any, layers: dict[str, Any]) -> None:
        self.agent, self.env, self.layers = agent, env, layers
        self._weights_cache: tuple[float, tuple[str, ...], dict[str, Any]] | None = None

    def streams(
        self,
        selection: StreamSelection,
        *,
        inputs: dict[str, Any] | None,
        outputs: dict[str, Any] | None,
        reward: float | None,
        metrics: dict[str, Any],
        activations: dict[str, np.ndarray] | None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The frame's `streams` object for the selected streams."""
        frame: dict[str, Any] = dict(extra or {})
        # Inputs and outputs go as they are: every bus encodes events at once with `wire`,
        # which writes numpy arrays and scalars itself, NaN and infinities as null, as `to_json`
        # would; converting them here cost a sampled step about 35 µs more in place.
        if selection.wants("inputs") and inputs is not None:
            frame["inputs"] = dict(inputs)
        if selection.wants("outputs") and outputs is not None:
            frame["outputs"] = dict(outputs)
        if selection.wants("reward") and reward is not None:
            frame["reward"] = float(reward)
        if selection.wants("metrics"):
            frame["metrics"] = json_safe(metrics)
        if selection.wants("state"):
            frame["state"] = self._state()
        if selection.wants("frame") and self.env is not None:
            rgb = render_rgb(self.env)
            # Downscaling costs more than encoding a frame of a few hundred pixels as it is.
            frame["frame"] = encode_frame(rgb, max_width=MAX_FRAME_WIDTH) if rgb is not None else None
        if selection.activations:
            frame.update(self._activations(selection, activations or {}))
        if selection.weights:
            frame.update(self._weights(selection))
        return frame

    def _activations(self, selection: StreamSelection, captured: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.layers:
            names = selection.layer_names(self.layers)
            return {f"activations/{name}": activation_json(captured[name]) for name in names if name in captured}
        # Models without torch layers expose what they like through `state`.
        state = self._state() or {}
        names = list(state) if selection.all_layers else sorted(selection.layers)
        return {f"activations/{name}": state.get(name) for name in names}

    def weights_changed(self) -> None:
        """The model trained or was restored: the next frame summarises its weights afresh."""
        self._weights_cache = None

    def _weights(self, selection: StreamSelection) -> dict[str, Any]:
        if not self.layers:
            return {}
        now = time.monotonic()
        cached = self._weights_cache
        if cached is not None and cached[1] == selection.names and now - cached[0] < WEIGHTS_EVERY_SECONDS:
            return cached[2]
        named = self._summarise_weights(selection)
        self._weights_cache = (now, selection.names, named)
        return named

    def _summarise_weights(self, selection: StreamSelection) -> dict[str, Any]:
        if selection.all_params:
            summaries = weight_summaries(self.agent)
            named = {f"weights/{name}": summary for name, summary in summaries.items()}
        else:
            named = {}
        if selection.params:
            # Parameters named one by one come with their values when they are small.
            chosen = weight_summaries(self.agent, names=sorted(selection.params), include_values=True)
            named.update({f"weights/{name}": summary for name, summary in chosen.items()})
        return named

    def _state(self) -> Any:
        try:
            return json_safe(self.agent.state)
        except Exception as exc:  # noqa: BLE001  # a broken `state` must not stop telemetry
            return {"unavailable": f"{type(exc).__name__}: {exc}"}
