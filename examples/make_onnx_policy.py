"""Write `cartpole_policy.onnx`: the balancing controller of plain_agent.py as an ONNX graph.

Run it again to remake the committed file (it needs the `onnx` package:
``pip install 'ainimal-zookeeper[onnx]'``). The graph is a small MLP whose hidden layer holds
the controller's push (positive and negative halves through a Relu) so that its activations
are worth watching: observation (4) -> MatMul -> Relu (2) -> MatMul -> logits (2, left / right).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def build(path: Path = HERE / "cartpole_policy.onnx") -> Path:
    """Build and save the policy; returns its path."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    # push = 0.1 x + 0.5 x_dot + angle + angle_dot (the plain controller with gain 1).
    push = np.array([0.1, 0.5, 1.0, 1.0], dtype=np.float32)
    w1 = np.stack([push, -push], axis=1)  # hidden: [relu(push), relu(-push)]
    w2 = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)  # right when push > 0, else left
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["observation", "w1"], ["push"], name="push"),
            helper.make_node("Relu", ["push"], ["push_relu"], name="relu"),
            helper.make_node("MatMul", ["push_relu", "w2"], ["logits"], name="logits"),
        ],
        "cartpole_policy",
        [helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="ainimal-zookeeper")
    model.ir_version = 8  # readable by onnxruntime 1.17 and later
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


if __name__ == "__main__":
    print(build())
