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
