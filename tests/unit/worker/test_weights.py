"""Weight summaries say what numpy says about each parameter, in a few hundred bytes."""

from __future__ import annotations

import numpy as np
import pytest

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.torch_layers import named_layers
from ainimal_zookeeper.worker.weights import weight_summaries

torch = pytest.importorskip("torch")

PARAMETERS = [
    "policy.0.weight",
    "policy.0.bias",
    "policy.2.weight",
    "policy.2.bias",
    "policy.4.weight",
    "policy.4.bias",
]


class MlpAgent:
    def __init__(self) -> None:
        torch.manual_seed(0)
        self.policy = torch.nn.Sequential(
            torch.nn.Linear(4, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2)
        )


def test_every_parameter_is_summarised_with_numpys_statistics():
    agent = MlpAgent()
    summaries = weight_summaries(agent, bins=16)
    assert list(summaries) == PARAMETERS
    for name, tensor in agent.policy.named_parameters():
        values = tensor.detach().numpy()
        summary = summaries[f"policy.{name}"]
        assert summary["shape"] == list(values.shape) and summary["numel"] == values.size
        assert summary["mean"] == pytest.approx(float(np.mean(values, dtype=np.float64)))
        assert summary["std"] == pytest.approx(float(np.std(values, dtype=np.float64)))
        assert (summary["min"], summary["max"]) == (float(values.min()), float(values.max()))
        counts, edges = np.histogram(values, bins=16)
        assert summary["histogram"] == {"counts": counts.tolist(), "edges": edges.tolist()}
        assert summary["nonfinite"] == 0 and "values" not in summary


def test_named_layers_and_the_agent_give_the_same_summaries():
    agent = MlpAgent()
    assert weight_summaries(named_layers(agent)) == weight_summaries(agent)


def test_full_values_come_only_on_request_and_only_for_small_tensors():
    agent = MlpAgent()
    summaries = weight_summaries(agent, include_values=True, full_values_limit=128)
    assert summaries["policy.4.weight"]["values"] == agent.policy[4].weight.detach().numpy().tolist()
    assert summaries["policy.0.bias"]["values"] == agent.policy[0].bias.detach().numpy().tolist()
    assert "values" not in summaries["policy.0.weight"]  # 256 elements, over the limit


def test_names_choose_parameters_and_unknown_ones_are_refused():
    agent = MlpAgent()
    assert list(weight_summaries(agent, ["policy.4.bias", "policy.0.weight"])) == ["policy.4.bias", "policy.0.weight"]
    with pytest.raises(
        InvalidInput, match=r"unknown parameter 'policy\.1\.weight'; known parameters: policy\.0\.weight"
    ):
        weight_summaries(agent, ["policy.1.weight"])


def test_non_finite_weights_are_counted_and_left_out_of_the_statistics():
    agent = MlpAgent()
    with torch.no_grad():
        agent.policy[4].bias.copy_(torch.tensor([float("nan"), 2.0]))
    summary = weight_summaries(agent, ["policy.4.bias"], bins=2, include_values=True)["policy.4.bias"]
    assert summary["nonfinite"] == 1 and summary["mean"] == 2.0 and summary["std"] == 0.0
    assert summary["histogram"]["counts"] == [0, 1] and summary["values"] == [None, 2.0]


def test_a_root_module_with_its_own_parameters_and_a_non_torch_agent():
    class Holder:
        def __init__(self):
            self.scale = torch.nn.Linear(1, 1, bias=False)

    assert list(weight_summaries(Holder())) == ["scale.weight"]

    class NoTorch:
        def __init__(self):
            self.weights = np.ones(3)

    assert weight_summaries(NoTorch()) == {}
