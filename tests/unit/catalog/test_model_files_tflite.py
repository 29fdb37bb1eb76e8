"""TFLite model files on LiteRT; the test model is written with the schema LiteRT ships."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config.model import ModelConfig
from ainimal_zookeeper.errors import InvalidInput

from mf_builders import tiny_tflite

pytest.importorskip("ai_edge_litert")

CARTPOLE = {"name": "cartpole", "type": "gymnasium", "env_name": "CartPole-v1"}


def _entry(path: Path) -> dict:
    return ModelConfig(name="lite", type=".tflite", path=str(path)).model_dump()


def test_the_catalog_reads_a_tflite_files_tensors_and_ops(tmp_path):
    spec = Catalog([_entry(tiny_tflite(tmp_path / "p.tflite"))], [CARTPOLE], []).model("lite").spec
    assert spec["error"] is None and spec["kind"] == "tflite"
    assert spec["inputModalities"]["observation"]["shape"] == [4]
    assert spec["outputModalities"]["action"]["shape"] == [2]
    arch = spec["architecture"]
    assert arch["framework"] == "tflite" and arch["parameters"] == 2 * 4 + 2
    assert [n["type"] for n in arch["nodes"]][:2] == ["FULLY_CONNECTED", "RELU"]


def test_a_tflite_policy_acts_exposes_its_intermediate_tensors_and_checkpoints_a_copy(tmp_path):
    path = tiny_tflite(tmp_path / "p.tflite")
    agent = build_agent(_entry(path), {})
    agent.discrete_actions = True
    obs = {"observation": np.array([0.1, -0.2, 0.03, 0.4])}
    out = agent.forward(obs)
    assert out["action"] == int(np.argmax(out["logits"])) and min(out["logits"]) >= 0.0
    assert len(agent.state["dense"][0]) == 2
    folder = tmp_path / "ckpt"
    folder.mkdir()
    agent.save(str(folder))
    other = build_agent(_entry(tiny_tflite(tmp_path / "o.tflite", seed=5)), {})
    other.discrete_actions = True
    other.load(str(folder))
    np.testing.assert_allclose(other.forward(obs)["logits"], out["logits"])


def test_a_tflite_file_for_another_env_shape_is_refused_naming_both(tmp_path):
    catalog = Catalog([_entry(tiny_tflite(tmp_path / "p.tflite", obs=3))], [CARTPOLE], [])
    with pytest.raises(InvalidInput, match=r"\(3,\).*\(4,\)"):
        catalog.plan_launch("lite", "cartpole", None, None)
