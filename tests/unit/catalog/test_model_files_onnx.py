"""ONNX model files: read before launch, run, observed and checkpointed, shapes checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent, capabilities
from ainimal_zookeeper.config.model import ModelConfig
from ainimal_zookeeper.errors import InvalidInput, ModelError

from mf_builders import cartpole_onnx

pytest.importorskip("onnxruntime")


def _entry(path: Path, name: str = "onnx-policy") -> dict:
    return ModelConfig(name=name, type="onnx", path=str(path)).model_dump()


def test_an_onnx_entry_needs_no_class_name_and_refuses_one(tmp_path):
    assert ModelConfig(name="m", type=".ONNX", path="m.onnx").type == "onnx"
    with pytest.raises(ValueError, match="class_name does not apply"):
        ModelConfig(name="m", type="onnx", path="m.onnx", class_name="X")
    with pytest.raises(ValueError, match="missing class_name"):
        ModelConfig(name="m", type="ainimal", path="m.py")


def test_the_catalog_reads_modalities_and_architecture_from_the_file(tmp_path):
    path = cartpole_onnx(tmp_path / "policy.onnx")
    catalog = Catalog([_entry(path)], [{"name": "cartpole", "type": "gymnasium", "env_name": "CartPole-v1"}], [])
    spec = catalog.model("onnx-policy").spec
    assert spec["error"] is None
    assert spec["kind"] == "onnx"
    assert spec["inputModalities"]["observation"]["shape"] == [4]
    assert spec["outputModalities"]["action"]["shape"] == [2]
    arch = spec["architecture"]
    assert arch["framework"] == "onnx"
    assert arch["parameters"] == 4 * 8 + 8 * 2
    assert [n["type"] for n in arch["nodes"]] == ["MatMul", "Relu", "MatMul"]
    assert arch["inputs"] == [{"name": "observation", "shape": [None, 4], "dtype": "float32"}]
    assert spec["checkpointable"] is True
    assert spec["modes"] == ["INFER", "NONE"]


def test_an_onnx_policy_acts_with_the_argmax_of_its_logits_and_exposes_its_intermediate_values(tmp_path):
    agent = build_agent(_entry(cartpole_onnx(tmp_path / "p.onnx")), {})
    agent.discrete_actions = True
    out = agent.forward({"observation": np.array([0.1, -0.2, 0.03, 0.4], dtype=np.float64)})
    assert out["action"] in (0, 1)
    assert out["action"] == int(np.argmax(out["logits"]))
    state = agent.state
    assert set(state) >= {"logits", "hidden", "hidden_relu"}
    assert min(state["hidden_relu"][0]) >= 0.0


def test_a_checkpoint_keeps_a_copy_of_the_file_and_loads_it_back(tmp_path):
    original = cartpole_onnx(tmp_path / "a.onnx", seed=0)
    other = cartpole_onnx(tmp_path / "b.onnx", seed=1)
    agent = build_agent(_entry(original), {})
    save_dir = tmp_path / "ckpt"
    save_dir.mkdir()
    agent.save(str(save_dir))
    assert (save_dir / "model.onnx").read_bytes() == original.read_bytes()
    moved = build_agent(_entry(other), {})
    obs = {"observation": np.ones(4, dtype=np.float32)}
    moved.load(str(save_dir))
    np.testing.assert_allclose(moved.forward(obs)["action"], agent.forward(obs)["action"])


def test_a_launch_whose_env_does_not_fit_the_file_names_both_shapes(tmp_path):
    path = cartpole_onnx(tmp_path / "p.onnx", obs=3)
    catalog = Catalog([_entry(path)], [{"name": "cartpole", "type": "gymnasium", "env_name": "CartPole-v1"}], [])
    with pytest.raises(InvalidInput, match=r"shape \(3,\).*shape \(4,\)"):
        catalog.plan_launch("onnx-policy", "cartpole", None, None)
    wrong_actions = cartpole_onnx(tmp_path / "q.onnx", actions=3)
    catalog = Catalog(
        [_entry(wrong_actions)], [{"name": "cartpole", "type": "gymnasium", "env_name": "CartPole-v1"}], []
    )
    with pytest.raises(InvalidInput, match=r"outputs of shape \(3,\).*2 choices"):
        catalog.plan_launch("onnx-policy", "cartpole", None, None)


def test_the_worker_refuses_an_observation_of_the_wrong_shape_naming_both(tmp_path):
    agent = build_agent(_entry(cartpole_onnx(tmp_path / "p.onnx")), {})
    with pytest.raises(ModelError, match=r"\(\?, 4\)|\(4,\).*\(3,\)"):
        agent.forward({"observation": np.zeros(3, dtype=np.float32)})


def test_a_missing_or_broken_file_is_a_catalog_error_not_a_crash(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    catalog = Catalog([_entry(tmp_path / "missing.onnx", "missing"), _entry(broken, "broken")], [], [])
    assert "no such file" in catalog.model("missing").spec["error"]
    assert "onnxruntime cannot load" in catalog.model("broken").spec["error"]
    with pytest.raises(ModelError, match="no such file"):
        capabilities(_entry(tmp_path / "missing.onnx"))


EXAMPLES = Path(__file__).parents[3] / "examples"


def test_the_example_onnx_policy_is_what_its_script_makes_and_balances_cartpole(tmp_path):
    import gymnasium

    from ainimal_zookeeper.config.loader import load_config

    remade = __import__("runpy").run_path(str(EXAMPLES / "make_onnx_policy.py"))["build"](tmp_path / "p.onnx")
    assert remade.read_bytes() == (EXAMPLES / "cartpole_policy.onnx").read_bytes()
    entry = next(m for m in load_config(EXAMPLES / "zoo.yaml").models if m.name == "OnnxBalancer")
    agent = build_agent(entry.model_dump(), {})
    agent.discrete_actions = True
    env = gymnasium.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    total = 0.0
    for _ in range(500):
        obs, reward, terminated, truncated, _ = env.step(agent.forward({"observation": obs})["action"])
        total += float(reward)
        if terminated or truncated:
            break
    assert total == 500.0


def test_a_tensorflow_saved_model_is_listed_with_why_it_cannot_run_and_what_to_do(tmp_path):
    (tmp_path / "saved").mkdir()
    entry = ModelConfig(name="tf", type=".tensorflow", path=str(tmp_path / "saved")).model_dump()
    error = Catalog([entry], [], []).model("tf").spec["error"]
    assert "need TensorFlow" in error and "tf2onnx" in error


def test_a_missing_runtime_names_the_extra_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the onnx extra were not installed
    error = Catalog([_entry(cartpole_onnx(tmp_path / "p.onnx"))], [], []).model("onnx-policy").spec["error"]
    assert "(.onnx) needs the onnx extra" in error and "pip install 'ainimal-zookeeper[onnx]'" in error
