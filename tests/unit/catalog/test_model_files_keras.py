"""Keras 3 model files (.keras and legacy .h5) on the torch backend, without TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config.model import ModelConfig
from ainimal_zookeeper.errors import InvalidInput

from mf_builders import cartpole_keras

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is first imported: no TensorFlow here
pytest.importorskip("torch")
pytest.importorskip("keras")

# Keras 3.15's torch backend converts variables with np.array(x), which numpy 2.4 warns about
# (its warning, not ours; saving and loading work).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

CARTPOLE = {"name": "cartpole", "type": "gymnasium", "env_name": "CartPole-v1"}


def _entry(path: Path, kind: str = "keras") -> dict:
    return ModelConfig(name="keras-policy", type=kind, path=str(path)).model_dump()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_the_catalog_reads_a_keras_files_layers_and_modalities(tmp_path, suffix):
    path = cartpole_keras(tmp_path / f"policy{suffix}")
    spec = Catalog([_entry(path, suffix)], [CARTPOLE], []).model("keras-policy").spec
    assert spec["error"] is None and spec["kind"] == "keras"
    assert spec["inputModalities"]["observation"]["shape"] == [4]
    assert spec["outputModalities"]["action"]["shape"] == [2]
    arch = spec["architecture"]
    assert arch["framework"] == "keras" and arch["backend"] == "torch"
    assert arch["parameters"] == 4 * 8 + 8 + 8 * 2 + 2
    assert [n["name"] for n in arch["nodes"]] == ["hidden", "logits"]
    assert arch["nodes"][0]["output_shape"] == [None, 8]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_keras_policy_acts_exposes_its_layers_and_checkpoints_as_a_keras_file(tmp_path, suffix):
    agent = build_agent(_entry(cartpole_keras(tmp_path / f"p{suffix}")), {})
    agent.discrete_actions = True
    obs = {"observation": np.array([0.1, -0.2, 0.03, 0.4])}
    out = agent.forward(obs)
    assert out["action"] == int(np.argmax(out["logits"]))
    state = agent.state
    assert len(state["hidden"][0]) == 8 and min(state["hidden"][0]) >= 0.0
    folder = tmp_path / "ckpt"
    folder.mkdir()
    agent.save(str(folder))
    other = build_agent(_entry(cartpole_keras(tmp_path / "other.keras", seed=1)), {})
    other.discrete_actions = True
    assert not np.allclose(other.forward(obs)["logits"], out["logits"])
    other.load(str(folder))
    np.testing.assert_allclose(other.forward(obs)["logits"], out["logits"], rtol=1e-6)


def test_a_keras_policy_for_another_env_shape_is_refused_at_launch_naming_both(tmp_path):
    path = cartpole_keras(tmp_path / "p.keras", obs=6)
    catalog = Catalog([_entry(path)], [CARTPOLE], [])
    with pytest.raises(InvalidInput, match=r"\(6,\).*\(4,\)"):
        catalog.plan_launch("keras-policy", "cartpole", None, None)


def test_a_keras_file_with_python_code_in_it_is_refused(tmp_path):
    import keras

    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Lambda(lambda x: x * 2)])
    path = tmp_path / "lambda.keras"
    model.save(str(path))
    spec = Catalog([_entry(path)], [], []).model("keras-policy").spec
    assert "Keras cannot load" in spec["error"] and "safe_mode" in spec["error"]


def test_a_server_without_keras_backend_set_reads_keras_files_on_torch(tmp_path):
    import subprocess
    import sys

    path = cartpole_keras(tmp_path / "p.keras")
    code = (
        "from ainimal_zookeeper.catalog.catalog import Catalog\n"
        f"spec = Catalog([{{'name': 'k', 'type': 'keras', 'path': {str(path)!r}}}], [], []).model('k').spec\n"
        "print(spec['error'], spec['architecture']['backend'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=100)
    assert result.stdout.strip().splitlines()[-1] == "None torch", result.stderr
