"""PytorchHubRepo on a local torch.hub repository (hubconf.py), loaded with torch.hub.load(source='local')."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="the torch extra is not installed")

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.adapters.hubs.pytorch_hub import PytorchHubRepo
from ainimal_zookeeper.catalog.factory import build_agent, capabilities
from ainimal_zookeeper.catalog.hub_entries import read_model_folder
from ainimal_zookeeper.errors import NotFound, Unavailable

HUBCONF = '''
dependencies = ["torch"]
import torch


def tiny_policy(hidden=8):
    """A tiny CartPole policy: 4 inputs, 2 logits."""
    return torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))


def _private():
    return None
'''


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "hubconf.py").write_text(HUBCONF)
    return tmp_path / "repo"


def test_each_entrypoint_is_a_model_that_builds_and_acts_like_a_torch_model(repo, tmp_path):
    hub = PytorchHubRepo(repo, RevisionCache(tmp_path / "cache"))
    [model] = hub.list_models()
    assert (model.name, model.description) == ("tiny_policy", "A tiny CartPole policy: 4 inputs, 2 logits.")
    folder = hub.fetch(model.name, model.revision)
    [entry], _ = read_model_folder(folder, model.name, model.description)
    assert entry["name"] == "tiny_policy" and entry["type"] == "torch"
    assert capabilities(entry).modes == ("INFER", "NONE")
    agent = build_agent(entry, {"hidden": 3})
    agent.discrete_actions = True
    assert agent.forward({"observation": np.zeros(4, dtype=np.float32)})["action"] in (0, 1)
    assert hub.fetch(model.name, model.revision) == folder  # cached


def test_a_changed_hubconf_is_a_new_revision(repo, tmp_path):
    hub = PytorchHubRepo(repo, RevisionCache(tmp_path / "cache"))
    before = hub.list_models()[0].revision
    (repo / "hubconf.py").write_text(HUBCONF + "\n# changed\n")
    assert hub.list_models()[0].revision != before


def test_a_missing_hubconf_or_entrypoint_says_so(repo, tmp_path):
    hub = PytorchHubRepo(tmp_path / "nowhere", RevisionCache(tmp_path / "cache"))
    with pytest.raises(Unavailable, match="no hubconf.py"):
        hub.list_models()
    with pytest.raises(NotFound, match="no entrypoint 'nope'"):
        PytorchHubRepo(repo, RevisionCache(tmp_path / "cache")).fetch("nope")
