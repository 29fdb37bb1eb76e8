"""Keras 3 model files (`.keras`, and legacy `.h5`), run by Keras 3 on its torch backend.

Keras picks its backend when first imported: `KERAS_BACKEND` is set to torch (unless the
operator chose one), so no TensorFlow is needed. Files are loaded with `safe_mode=True`: a
file holding Python code (a `Lambda` layer's bytecode) is refused rather than run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files import FileDescription
from ainimal_zookeeper.catalog.model_files.common import (
    MAX_LISTED_NODES,
    FileModelAInimal,
    drop_batch_axis,
    tensor_modality,
)
from ainimal_zookeeper.errors import ModelError


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


def _load(model: dict[str, Any], path: str) -> Any:
    keras = _keras()
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # keras raises many types for bad files
        raise ModelError(f"model {model['name']!r}: Keras cannot load {path}: {type(exc).__name__}: {exc}") from exc


def _shape(tensor: Any) -> list[int | None]:
    return [d if isinstance(d, int) else None for d in tensor.shape]


def _dtype(tensor: Any) -> str:
    return str(getattr(tensor, "dtype", "float32")).replace("torch.", "")


def _describe(net: Any, path: str) -> dict[str, Any]:
    layers = []
    for layer in net.layers[:MAX_LISTED_NODES]:
        output = getattr(layer, "output", None)
        layers.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "parameters": int(layer.count_params()) if layer.built else 0,
                "output_shape": _shape(output) if output is not None and hasattr(output, "shape") else None,
            }
        )
    return {
        "framework": "keras",
        "backend": _keras().backend.backend(),
        "file": Path(path).name,
        "inputs": [{"name": t.name, "shape": _shape(t), "dtype": _dtype(t)} for t in net.inputs],
        "outputs": [{"name": t.name, "shape": _shape(t), "dtype": _dtype(t)} for t in net.outputs],
        "parameters": int(net.count_params()),
        "nodes": layers,
    }


def inspect(model: dict[str, Any]) -> FileDescription:
    """The model's inputs, outputs and layers, read from the file."""
    net = _load(model, model["path"])
    first_in, first_out = net.inputs[0], net.outputs[0]
    return FileDescription(
        input_modalities={"observation": tensor_modality(drop_batch_axis(_shape(first_in)), _dtype(first_in))},
        output_modalities={"action": tensor_modality(drop_batch_axis(_shape(first_out)), _dtype(first_out))},
        architecture=_describe(net, model["path"]),
    )


class KerasAInimal(FileModelAInimal):
    """A Keras policy: the first input gets the observation, the first output is the action.

    Activations: a second model over the same graph returns every layer's output; it runs only
    when `state` is read (a sampled telemetry frame), never on the hot path.
    """

    suffix = ".keras"

    def __init__(self, model: dict[str, Any]) -> None:
        self._config = model
        self._load(model["path"])
        super().__init__(model["name"], model["path"], drop_batch_axis(_shape(self.net.inputs[0])))

    def _load(self, path: str) -> None:
        self.net = _load(self._config, path)
        self._last_obs: np.ndarray | None = None

    def _run(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        self._last_obs = observation
        outputs = self.net(observation.astype(np.float32, copy=False), training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        names = [t.name for t in self.net.outputs]
        return {name: _numpy(value) for name, value in zip(names, outputs, strict=False)}

    def save(self, path: str) -> None:
        # Saved as a Keras 3 file whatever the source format (an .h5 becomes .keras).
        self.net.save(str(Path(path) / "model.keras"))

    def _reload(self, path: str) -> None:
        self._load(path)
        self.path = path

    @property
    def state(self) -> dict[str, Any]:
        state = super().state
        if self._last_obs is None:
            return state
        try:
            keras = _keras()
            probe = keras.Model(self.net.inputs, [layer.output for layer in self.net.layers])
            # The probe was built from the list `net.inputs`: it takes a list (a bare array warns).
            values = probe([self._last_obs.astype(np.float32, copy=False)], training=False)
        except Exception:  # noqa: BLE001  # a subclassed model has no graph to probe: outputs only
            return state
        from ainimal_zookeeper.catalog.model_files.common import summary

        state.update({layer.name: summary(_numpy(v)) for layer, v in zip(self.net.layers, values, strict=False)})
        return state

    @property
    def architecture(self) -> dict[str, Any]:
        """The file's inputs, outputs and layers, as the catalog shows them."""
        return _describe(self.net, self.path)


def _numpy(value: Any) -> np.ndarray:
    detach = getattr(value, "detach", None)
    if detach is not None:  # a torch tensor (the torch backend)
        return np.asarray(detach().cpu().numpy())
    return np.asarray(value)


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> KerasAInimal:
    """An AInimal running the Keras file of a model entry (a file takes no init parameters)."""
    return KerasAInimal(model)
