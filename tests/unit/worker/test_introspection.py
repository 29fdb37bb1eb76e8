"""The architecture names torch layers as activation streams and overrides name them."""

from __future__ import annotations

import gymnasium
import pytest

from ainimal_zookeeper.worker.introspection import describe_agent
from ainimal_zookeeper.worker.torch_layers import named_layers

torch = pytest.importorskip("torch")


class TwoNetAgent:
    def __init__(self):
        self.policy = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
        self.value = torch.nn.Linear(4, 1)


def test_layer_names_are_those_of_named_layers_root_included():
    agent = TwoNetAgent()
    env = gymnasium.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    described = describe_agent(agent, env, obs)
    names = [layer["name"] for layer in described["layers"]]
    assert names == list(named_layers(agent)) == ["policy", "policy.0", "policy.1", "policy.2", "value"]
    layers = {layer["name"]: layer for layer in described["layers"]}
    assert layers["policy"]["type"] == "Sequential" and layers["policy.2"]["output_shape"] == [1, 2]
    assert layers["value"]["output_shape"] == [1, 1] and described["parameters"] == 4 * 8 + 8 + 8 * 2 + 2 + 5
