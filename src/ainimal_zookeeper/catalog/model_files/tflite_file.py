"""TFLite model files, run by LiteRT (`ai-edge-litert`, TensorFlow Lite's runtime, no TensorFlow).

Inputs and outputs come from the interpreter's tensor details. The interpreter is made with
`experimental_preserve_all_tensors`, so every intermediate tensor can be read after a step:
they are in `state` (the `activations/<tensor name>` streams), read only when a frame asks.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files import FileDescription
from ainimal_zookeeper.catalog.model_files.common import (
    MAX_LISTED_NODES,
    FileModelAInimal,
    drop_batch_axis,
    summary,
    tensor_modality,
)
from ainimal_zookeeper.errors import ModelError


def _interpreter(model: dict[str, Any], path: str) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    try:
        with warnings.catch_warnings():
            # It warns that keeping every tensor costs memory: that is what activations need.
            warnings.simplefilter("ignore", UserWarning)
            interpreter = Interpreter(model_path=path, num_threads=1, experimental_preserve_all_tensors=True)
        interpreter.allocate_tensors()
    except Exception as exc:  # LiteRT raises ValueError / RuntimeError for bad files
        raise ModelError(f"model {model['name']!r}: LiteRT cannot load {path}: {exc}") from exc
    return interpreter


def _shape(detail: dict[str, Any]) -> list[int | None]:
    signature = detail.get("shape_signature")
    dims = signature if signature is not None and len(signature) else detail["shape"]
    return [int(d) if d >= 0 else None for d in dims]


def _dtype(detail: dict[str, Any]) -> str:
    return np.dtype(detail["dtype"]).name


def _arg(detail: dict[str, Any]) -> dict[str, Any]:
    return {"name": detail["name"], "shape": _shape(detail), "dtype": _dtype(detail)}


def _describe(interpreter: Any, path: str) -> dict[str, Any]:
    ops = interpreter._get_ops_details()[:MAX_LISTED_NODES]  # no public listing of the graph's ops
    tensors = interpreter.get_tensor_details()
    constant = {i for op in ops for i in op.get("inputs", ())} - {o for op in ops for o in op.get("outputs", ())}
    inputs = {d["index"] for d in interpreter.get_input_details()}
    parameters = sum(int(np.prod(t["shape"])) for t in tensors if t["index"] in constant - inputs)
    return {
        "framework": "tflite",
        "file": Path(path).name,
        "inputs": [_arg(d) for d in interpreter.get_input_details()],
        "outputs": [_arg(d) for d in interpreter.get_output_details()],
        "parameters": parameters,
        "nodes": [
            {
                "name": f"{op['index']}:{op.get('op_name')}",
                "type": op.get("op_name"),
                "inputs": [int(i) for i in op["inputs"]],
                "outputs": [int(i) for i in op["outputs"]],
            }
            for op in ops
        ],
    }


def inspect(model: dict[str, Any]) -> FileDescription:
    """The file's inputs, outputs and ops."""
    interpreter = _interpreter(model, model["path"])
    first_in, first_out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    return FileDescription(
        input_modalities={"observation": tensor_modality(drop_batch_axis(_shape(first_in)), _dtype(first_in))},
        output_modalities={"action": tensor_modality(drop_batch_axis(_shape(first_out)), _dtype(first_out))},
        architecture=_describe(interpreter, model["path"]),
    )


class TfliteAInimal(FileModelAInimal):
    """A TFLite policy: the first input gets the observation, the first output is the action."""

    suffix = ".tflite"

    def __init__(self, model: dict[str, Any]) -> None:
        self._config = model
        self._reload(model["path"])
        super().__init__(model["name"], model["path"], drop_batch_axis(_shape(self._input)))

    def _reload(self, path: str) -> None:
        self.interpreter = _interpreter(self._config, path)
        self._input = self.interpreter.get_input_details()[0]
        self._outputs = self.interpreter.get_output_details()
        self.path = path

    def _run(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        interpreter = self.interpreter
        interpreter.set_tensor(self._input["index"], observation.astype(self._input["dtype"], copy=False))
        interpreter.invoke()
        return {d["name"]: interpreter.get_tensor(d["index"]) for d in self._outputs}

    @property
    def state(self) -> dict[str, Any]:
        state = super().state
        if not self._last:
            return state
        for detail in self.interpreter.get_tensor_details():
            if detail["name"] not in state:
                try:
                    state[detail["name"]] = summary(self.interpreter.get_tensor(detail["index"]))
                except ValueError:  # a tensor the runtime did not keep
                    continue
        return state

    @property
    def architecture(self) -> dict[str, Any]:
        """The file's inputs, outputs and ops."""
        return _describe(self.interpreter, self.path)


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> TfliteAInimal:
    """An AInimal running the TFLite file of a model entry (a file takes no init parameters)."""
    return TfliteAInimal(model)
