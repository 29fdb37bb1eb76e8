"""Small model files made on the spot for the model-file tests (no network, no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def cartpole_onnx(path: Path, obs: int = 4, hidden: int = 8, actions: int = 2, seed: int = 0) -> Path:
    """A two-layer MLP policy (obs -> hidden -> logits) as an ONNX file, built with onnx.helper."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = numpy_helper.from_array(rng.normal(size=(obs, hidden)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(size=(hidden, actions)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["observation", "w1"], ["hidden"], name="fc1"),
        helper.make_node("Relu", ["hidden"], ["hidden_relu"], name="relu"),
        helper.make_node("MatMul", ["hidden_relu", "w2"], ["logits"], name="fc2"),
    ]
    graph = helper.make_graph(
        nodes,
        "policy",
        [helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["batch", obs])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", actions])],
        initializer=[w1, w2],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def cartpole_keras(path: Path, obs: int = 4, hidden: int = 8, actions: int = 2, seed: int = 0) -> Path:
    """A two-layer Keras policy saved to `path` (.keras, or legacy .h5), on the torch backend."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(obs,), name="observation"),
            keras.layers.Dense(hidden, activation="relu", name="hidden"),
            keras.layers.Dense(actions, name="logits"),
        ]
    )
    model.save(str(path))
    return path


MLP_SOURCE = """
import torch


class Mlp(torch.nn.Module):
    def __init__(self, obs: int = 4, hidden: int = 8, actions: int = 2) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(obs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, actions))

    def forward(self, x):
        return self.net(x)
"""


def torch_mlp(folder: Path, seed: int = 0):  # a torch module; torch is optional
    """The `Mlp` class written to folder/mlp.py and imported from there, and one built with `seed`."""
    import torch

    from ainimal_zookeeper.catalog.sources import load_class

    source = folder / "mlp.py"
    source.write_text(MLP_SOURCE)
    torch.manual_seed(seed)
    return source, load_class(source, "Mlp")()


def tiny_tflite(path: Path, obs: int = 4, actions: int = 2, seed: int = 0) -> Path:
    """A one-layer policy (FULLY_CONNECTED, then RELU) as a TFLite flatbuffer, written with the
    schema classes ai-edge-litert ships (no TensorFlow converter needed)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(actions, obs)).astype(np.float32)
    bias = rng.normal(size=(actions,)).astype(np.float32)

    def tensor(name: str, shape: list[int], buffer: int) -> object:
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, shape, s.TensorType.FLOAT32, buffer
        return t

    def buffer(data: bytes | None = None) -> object:
        b = s.BufferT()
        b.data = list(data) if data else None
        return b

    def op(code: int, inputs: list[int], outputs: list[int], options_type: int = 0, options: object = None) -> object:
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = code, inputs, outputs
        o.builtinOptionsType, o.builtinOptions = options_type, options
        return o

    codes = []
    for builtin in (s.BuiltinOperator.FULLY_CONNECTED, s.BuiltinOperator.RELU):
        c = s.OperatorCodeT()
        c.builtinCode, c.deprecatedBuiltinCode, c.version = builtin, builtin, 1
        codes.append(c)
    graph = s.SubGraphT()
    graph.tensors = [
        tensor("observation", [1, obs], 0),
        tensor("weights", [actions, obs], 1),
        tensor("bias", [actions], 2),
        tensor("dense", [1, actions], 0),
        tensor("logits", [1, actions], 0),
    ]
    graph.inputs, graph.outputs = [0], [4]
    graph.operators = [
        op(0, [0, 1, 2], [3], s.BuiltinOptions.FullyConnectedOptions, s.FullyConnectedOptionsT()),
        op(1, [3], [4]),
    ]
    graph.name = "policy"
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, codes, [graph]
    model.buffers = [buffer(), buffer(weights.tobytes()), buffer(bias.tobytes())]
    model.description = "ainimal-zookeeper test policy"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(bytes(builder.Output()))
    return path
