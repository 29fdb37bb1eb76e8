"""ONNX model files, run by onnxruntime on the CPU.

Inputs and outputs (names, shapes, element types) come from the inference session. Activations:
onnxruntime returns only a graph's outputs, so, with the `onnx` package present, every node's
output whose type shape inference can tell is added as a graph output of an in-memory copy (the
file is never changed); the values are then in `state` (the `activations/<node output>` streams).
"""

from __future__ import annotations

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

#: onnxruntime's element type names -> numpy dtype names.
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def _session(model: dict[str, Any], source: str | bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # One thread: many workers share the machine's cores (like workers.torch_threads).
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for bad files
        raise ModelError(f"model {model['name']!r}: onnxruntime cannot load {model['path']}: {exc}") from exc


def _dims(arg: Any) -> list[int | None]:
    return [d if isinstance(d, int) else None for d in (arg.shape or [])]


def _arg_json(arg: Any) -> dict[str, Any]:
    return {"name": arg.name, "shape": _dims(arg), "dtype": _DTYPES.get(arg.type, arg.type)}


def _graph_nodes(path: str) -> list[dict[str, Any]] | None:
    """The graph's nodes (name, op, inputs, outputs), or None without the onnx package."""
    try:
        import onnx
    except ImportError:
        return None
    graph = onnx.load(path).graph
    return [
        {
            "name": node.name or node.output[0],
            "type": node.op_type,
            "inputs": list(node.input),
            "outputs": list(node.output),
        }
        for node in graph.node[:MAX_LISTED_NODES]
    ]


def inspect(model: dict[str, Any]) -> FileDescription:
    """The file's inputs and outputs (from an inference session) and its nodes (from onnx)."""
    session = _session(model, model["path"])
    inputs, outputs = session.get_inputs(), session.get_outputs()
    first_in, first_out = inputs[0], outputs[0]
    architecture: dict[str, Any] = {
        "framework": "onnx",
        "file": Path(model["path"]).name,
        "inputs": [_arg_json(a) for a in inputs],
        "outputs": [_arg_json(a) for a in outputs],
        "parameters": _parameter_count(model["path"]),
        "nodes": _graph_nodes(model["path"]) or [],
    }
    return FileDescription(
        input_modalities={
            "observation": tensor_modality(drop_batch_axis(_dims(first_in)), _DTYPES.get(first_in.type, "float32"))
        },
        output_modalities={
            "action": tensor_modality(drop_batch_axis(_dims(first_out)), _DTYPES.get(first_out.type, "float32"))
        },
        architecture=architecture,
    )


def _parameter_count(path: str) -> int | None:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return None
    graph = onnx.load(path).graph
    return int(sum(numpy_helper.to_array(t).size for t in graph.initializer))


def _with_intermediate_outputs(path: str) -> tuple[bytes | str, list[str]]:
    """The model with every typed node output made a graph output, and those names (onnx needed)."""
    try:
        import onnx
    except ImportError:
        return path, []
    model = onnx.load(path)
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001  # activations are a courtesy: outputs only then
        return path, []
    known = {o.name for o in model.graph.output}
    added = [v for v in inferred.graph.value_info if v.name not in known and v.type.HasField("tensor_type")]
    if not added:
        return path, []
    model.graph.output.extend(added)
    return model.SerializeToString(), [v.name for v in added]


class OnnxAInimal(FileModelAInimal):
    """An ONNX policy: the first input gets the observation, the first output is the action."""

    suffix = ".onnx"

    def __init__(self, model: dict[str, Any]) -> None:
        self._config = model
        session = _session(model, model["path"])
        first = session.get_inputs()[0]
        super().__init__(model["name"], model["path"], drop_batch_axis(_dims(first)))
        self._load(model["path"])

    def _load(self, path: str) -> None:
        source, self.intermediates = _with_intermediate_outputs(path)
        self.session = _session(self._config, source)
        first = self.session.get_inputs()[0]
        self._input_name = first.name
        self._input_dtype = np.dtype(_DTYPES.get(first.type, "float32"))
        self._output_names = [o.name for o in self.session.get_outputs()]

    def _run(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        values = self.session.run(None, {self._input_name: observation.astype(self._input_dtype, copy=False)})
        return dict(zip(self._output_names, values, strict=True))

    def _reload(self, path: str) -> None:
        self._load(path)
        self.path = path

    @property
    def architecture(self) -> dict[str, Any]:
        """The file's inputs, outputs and nodes, as the catalog shows them."""
        return inspect(self._config).architecture


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> OnnxAInimal:
    """An AInimal running the ONNX file of a model entry (a file takes no init parameters)."""
    return OnnxAInimal(model)
