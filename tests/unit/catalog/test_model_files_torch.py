"""PyTorch model files: TorchScript, torch.export programs, state dicts; pickled modules refused."""

from __future__ import annotations

import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config.model import ModelConfig

from mf_builders import torch_mlp

torch = pytest.importorskip("torch")

OBS = {"observation": np.array([0.1, -0.2, 0.03, 0.4], dtype=np.float32)}


def _expected(module):
    with torch.no_grad():
        return module(torch.as_tensor(OBS["observation"])[None])[0].numpy()


def _spec(entry: dict) -> dict:
    return Catalog([entry], [], []).model(entry["name"]).spec


# torch 2.13 deprecates making TorchScript (torch.jit.script); files made earlier still load.
@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")
def test_a_torchscript_file_is_read_before_launch_and_acts_like_its_module(tmp_path):
    _, module = torch_mlp(tmp_path)
    path = tmp_path / "policy.pt"
    torch.jit.save(torch.jit.script(module), str(path))
    entry = ModelConfig(name="ts", type="torchscript", path=str(path)).model_dump()
    spec = _spec(entry)
    assert spec["error"] is None and spec["architecture"]["framework"] == "torchscript"
    assert spec["architecture"]["parameters"] == 4 * 8 + 8 + 8 * 2 + 2
    agent = build_agent(entry, {})
    agent.discrete_actions = True
    out = agent.forward(OBS)
    np.testing.assert_allclose(out["logits"], _expected(module), rtol=1e-6)
    assert out["action"] == int(np.argmax(_expected(module)))
    folder = tmp_path / "ckpt"
    folder.mkdir()
    agent.save(str(folder))
    agent.load(str(folder))
    np.testing.assert_allclose(agent.forward(OBS)["logits"], _expected(module), rtol=1e-6)


def test_a_torch_export_program_is_read_and_acts_like_its_module(tmp_path):
    _, module = torch_mlp(tmp_path)
    path = tmp_path / "policy.pt2"
    torch.export.save(torch.export.export(module, (torch.zeros(1, 4),)), str(path))
    entry = ModelConfig(name="ex", type=".pt2", path=str(path)).model_dump()
    assert entry["type"] == "torch_export"
    assert _spec(entry)["architecture"]["framework"] == "torch.export"
    agent = build_agent(entry, {})
    np.testing.assert_allclose(agent.forward(OBS)["action"], _expected(module), rtol=1e-6)


def test_a_state_dict_loads_into_its_named_module_class(tmp_path):
    source, module = torch_mlp(tmp_path, seed=3)
    weights = tmp_path / "policy.pytorch"
    torch.save(module.state_dict(), str(weights))
    entry = ModelConfig(
        name="sd", type=".pytorch", path=str(source), class_name="Mlp", weights=str(weights)
    ).model_dump()
    spec = _spec(entry)
    assert spec["error"] is None and spec["architecture"]["parameters"] == 58
    assert {"name": "net.0.weight", "shape": [8, 4]} in spec["architecture"]["nodes"]
    agent = build_agent(entry, {})
    agent.discrete_actions = True
    np.testing.assert_allclose(agent.forward(OBS)["logits"], _expected(module), rtol=1e-6)


def test_a_whole_pickled_module_is_refused_saying_why_and_nothing_of_it_runs(tmp_path):
    source, module = torch_mlp(tmp_path)
    weights = tmp_path / "whole.pt"
    torch.save(module, str(weights))  # the module object itself: unpickling would import and run code
    entry = ModelConfig(name="whole", type="pytorch", path=str(source), class_name="Mlp", weights=str(weights))
    error = _spec(entry.model_dump())["error"]
    assert "holds pickled Python objects" in error and "could run any code" in error
    assert "state_dict()" in error


def test_a_pytorch_entry_needs_its_weights_and_a_program_file_takes_no_class(tmp_path):
    with pytest.raises(ValueError, match="type pytorch needs weights"):
        ModelConfig(name="sd", type="pytorch", path="m.py", class_name="Mlp")
    with pytest.raises(ValueError, match="weights applies only to type pytorch"):
        ModelConfig(name="ts", type="torchscript", path="m.pt", weights="w.pt")
    with pytest.raises(ValueError, match="class_name does not apply"):
        ModelConfig(name="ts", type="torchscript", path="m.pt", class_name="Mlp")


def test_a_file_that_is_not_torchscript_is_a_clear_catalog_error(tmp_path):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"nope")
    error = _spec(ModelConfig(name="ts", type="torchscript", path=str(bogus)).model_dump())["error"]
    assert "is not a TorchScript file" in error
