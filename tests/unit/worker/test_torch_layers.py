"""Layer outputs of a torch AInimal are read and patched through hooks that exist only when needed."""

from __future__ import annotations

import numpy as np
import pytest

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.torch_layers import ActivationPatch, ActivationProbe, copying_hook, named_layers

torch = pytest.importorskip("torch")

OBSERVATION = np.array([0.1, -0.2, 0.03, 0.4], dtype=np.float32)


class MlpAgent:
    """A 4-64-64-2 torch policy held in an attribute, as user AInimals hold theirs."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.policy = torch.nn.Sequential(
            torch.nn.Linear(4, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2)
        )

    def forward(self, inputs):
        with torch.no_grad():
            logits = self.policy(torch.as_tensor(inputs["observation"]).unsqueeze(0))
        return {"action": int(logits.argmax()), "logits": logits.squeeze(0).numpy()}


@pytest.fixture
def agent():
    return MlpAgent()


@pytest.fixture
def probe(agent):
    probe = ActivationProbe.for_agent(agent)
    yield probe
    probe.close()


def manual_outputs(agent):
    x = torch.as_tensor(OBSERVATION).unsqueeze(0)
    outputs = {}
    with torch.no_grad():
        for i, layer in enumerate(agent.policy):
            x = layer(x)
            outputs[f"policy.{i}"] = x.numpy().copy()
    return outputs


def all_hooks(agent):
    return [hook for module in agent.policy.modules() for hook in module._forward_hooks.values()]


def test_layers_are_named_by_the_attribute_then_the_path_below_it(agent):
    layers = named_layers(agent)
    assert list(layers) == ["policy", "policy.0", "policy.1", "policy.2", "policy.3", "policy.4"]
    assert layers["policy"] is agent.policy and layers["policy.2"] is agent.policy[2]


def test_an_agent_without_torch_modules_has_no_layers():
    class Plain:
        weights = [1.0, 2.0]

    assert named_layers(Plain()) == {}


def test_capture_returns_each_layers_output_as_the_manual_forward_computes_it(agent, probe):
    with probe.capture(["policy.0", "policy.3", "policy"]) as captured:
        agent.forward({"observation": OBSERVATION})
    expected = manual_outputs(agent)
    assert set(captured) == {"policy.0", "policy.3", "policy"}
    assert captured["policy.0"].shape == (1, 64) and captured["policy.0"].dtype == np.float32
    np.testing.assert_array_equal(captured["policy.0"], expected["policy.0"])
    np.testing.assert_array_equal(captured["policy.3"], expected["policy.3"])
    np.testing.assert_array_equal(captured["policy"], expected["policy.4"])


def instrumented(agent):
    """The layers a capture reaches into: a forward hook, or a forward of their own."""
    return [name for name, module in agent.policy.named_modules() if module._forward_hooks or "forward" in vars(module)]


def test_capture_hooks_are_gone_after_the_block_even_when_it_raises(agent, probe):
    with probe.capture(["policy.0", "policy.2"]):
        assert instrumented(agent) == ["0", "2"]
    assert all_hooks(agent) == [] and instrumented(agent) == []
    with pytest.raises(RuntimeError, match="boom"), probe.capture(["policy.1"]):
        assert instrumented(agent) == ["1"]
        raise RuntimeError("boom")
    assert all_hooks(agent) == [] and instrumented(agent) == []
    with pytest.raises(InvalidInput, match="unknown layer"), probe.capture(["policy.0", "nope"]):
        pass
    assert instrumented(agent) == []  # the layers set up before the unknown one are put back


def test_capture_keeps_torch_fast_path_on_layers_nothing_else_hooks(agent, probe):
    # A hook on a layer sends every call through torch's slow path; a sampled step runs with
    # cold caches, so the capture replaces the layer's forward for the block instead.
    with probe.capture(["policy.0", "policy"]) as captured, torch.no_grad():
        assert all_hooks(agent) == []
        agent.forward({"observation": OBSERVATION})
    assert set(captured) == {"policy.0", "policy"}
    assert "forward" not in vars(agent.policy[0])


def test_a_layer_someone_else_hooks_is_captured_by_a_hook_after_theirs(agent, probe):
    # The user's hook changes the layer's output: the capture records what the next layer gets.
    handle = agent.policy[0].register_forward_hook(lambda _m, _i, out: out * 0.0)
    try:
        with probe.capture(["policy.0", "policy.2"]) as captured:
            assert instrumented(agent) == ["0", "2"] and len(all_hooks(agent)) == 2
            agent.forward({"observation": OBSERVATION})
        assert not captured["policy.0"].any()
        assert len(all_hooks(agent)) == 1  # the user's stays
    finally:
        handle.remove()


def test_a_capture_inside_a_capture_of_the_same_layer_takes_a_hook(agent, probe):
    with probe.capture(["policy.0"]) as outer, probe.capture(["policy.0"]) as inner:
        agent.forward({"observation": OBSERVATION})
    np.testing.assert_array_equal(outer["policy.0"], inner["policy.0"])
    assert instrumented(agent) == []


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_a_torchscript_layer_called_from_python_is_captured_although_it_takes_no_hooks():
    class Scripted:
        def __init__(self):
            self.net = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 3)))

    agent = Scripted()
    probe = ActivationProbe.for_agent(agent)
    compiled = vars(agent.net)["forward"]
    with probe.capture(["net", "net.0"]) as captured, torch.no_grad():
        expected = agent.net(torch.tensor([[1.0, -1.0]])).numpy()
    np.testing.assert_array_equal(captured["net"], expected)
    assert "net.0" not in captured  # called inside the compiled graph, out of Python's reach
    assert vars(agent.net)["forward"] is compiled  # its own compiled forward is back


def test_a_captured_output_is_a_copy_that_a_later_in_place_layer_cannot_change():
    class InPlace:
        def __init__(self):
            self.net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(inplace=True))

    agent = InPlace()
    probe = ActivationProbe.for_agent(agent)
    x = torch.tensor([[1.0, -1.0]])
    with probe.capture(["net.0"]) as captured, torch.no_grad():
        agent.net(x)
    with torch.no_grad():
        expected = agent.net[0](x).numpy()
    assert (expected < 0).any()  # the ReLU would have zeroed these in place
    np.testing.assert_array_equal(captured["net.0"], expected)


def test_capturing_an_unknown_layer_names_the_known_ones(probe):
    with pytest.raises(InvalidInput, match=r"unknown layer 'policy\.9'; known layers: policy, policy\.0"):
        with probe.capture(["policy.9"]):
            pass


def test_a_clamp_patch_changes_the_output_and_removing_it_restores_it(agent, probe):
    before = agent.forward({"observation": OBSERVATION})["logits"]
    probe.set_patches([ActivationPatch("policy.4", "clamp", [None, -5.0])])
    assert len(agent.policy[4]._forward_hooks) == 1
    assert agent.forward({"observation": OBSERVATION})["logits"].tolist() == [-5.0, -5.0]
    probe.set_patches([])
    assert all_hooks(agent) == []
    np.testing.assert_array_equal(agent.forward({"observation": OBSERVATION})["logits"], before)


def test_set_on_an_index_changes_only_that_unit(agent, probe):
    before = agent.forward({"observation": OBSERVATION})["logits"]
    probe.set_patches([ActivationPatch("policy.4", "set", 7.5, index=1)])
    after = agent.forward({"observation": OBSERVATION})["logits"]
    assert after[0] == before[0] and after[1] == 7.5
    assert agent.forward({"observation": OBSERVATION})["action"] == 1


def test_add_and_scale_patches_apply_in_order_and_downstream_layers_see_them(agent, probe):
    expected = (manual_outputs(agent)["policy.0"] + 1.0) * 2.0
    probe.set_patches([ActivationPatch("policy.0", "add", 1.0), ActivationPatch("policy.0", "scale", 2.0)])
    with probe.capture(["policy.0", "policy.4"]) as captured:
        agent.forward({"observation": OBSERVATION})
    np.testing.assert_allclose(captured["policy.0"], expected, rtol=1e-6)
    with torch.no_grad():
        downstream = agent.policy[1:](torch.as_tensor(expected)).numpy()
    np.testing.assert_allclose(captured["policy.4"], downstream, rtol=1e-5, atol=1e-6)


def test_patches_on_a_list_of_units_with_an_array_value(agent, probe):
    unpatched = manual_outputs(agent)["policy.2"]
    probe.set_patches([ActivationPatch("policy.2", "set", [1.0, 2.0, 3.0], index=[0, 5, 63])])
    with probe.capture(["policy.2"]) as captured:
        agent.forward({"observation": OBSERVATION})
    assert captured["policy.2"][0, [0, 5, 63]].tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(captured["policy.2"][0, 1:5], unpatched[0, 1:5])


def test_a_patched_layer_keeps_dtype_and_gradients_flow_for_training(agent, probe):
    probe.set_patches([ActivationPatch("policy.2", "scale", 0.5, index=[1, 2])])
    x = torch.as_tensor(OBSERVATION).unsqueeze(0)
    out = agent.policy(x)
    assert out.dtype == torch.float32
    out.sum().backward()  # the patch made a new tensor: nothing autograd needed was overwritten
    assert agent.policy[0].weight.grad is not None and agent.policy[0].weight.grad.abs().sum() > 0


def test_a_patch_that_does_not_fit_a_batch_leaves_the_output_unchanged(agent, probe, caplog):
    batch = torch.randn(3, 4)
    with torch.no_grad():
        unpatched = agent.policy(batch).numpy()
        probe.set_patches([ActivationPatch("policy.4", "add", [[1.0, 1.0]])])
        np.testing.assert_allclose(agent.policy(batch).numpy(), unpatched + 1.0, rtol=1e-6)  # (1, 2) fits (3, 2)
        probe.set_patches([ActivationPatch("policy.4", "set", [[1.0, 2.0]] * 2)])
        outputs = [agent.policy(batch).numpy() for _ in range(2)]  # (2, 2) cannot become (3, 2)
    np.testing.assert_array_equal(outputs[0], unpatched)
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 1


def test_patches_naming_an_unknown_layer_are_refused_and_the_old_ones_stay(agent, probe):
    probe.set_patches([ActivationPatch("policy.4", "set", 0.0)])
    with pytest.raises(InvalidInput, match="unknown layer 'value.0'"):
        probe.set_patches([ActivationPatch("policy.4", "add", 1.0), ActivationPatch("value.0", "add", 1.0)])
    assert agent.forward({"observation": OBSERVATION})["logits"].tolist() == [0.0, 0.0]


def test_close_removes_capture_and_patch_hooks(agent, probe):
    probe.set_patches([ActivationPatch("policy.0", "set", 0.0)])
    with probe.capture(["policy.1"]):
        probe.close()
        assert all_hooks(agent) == []
    assert all_hooks(agent) == []


def test_held_hooks_stay_until_their_own_release_and_holds_coexist(agent, probe):
    recording: dict[str, np.ndarray] = {}
    replay: dict[str, np.ndarray] = {}
    release_recording = probe.hold({"policy.0": copying_hook(recording, "policy.0")})
    release_replay = probe.hold(
        {"policy.0": copying_hook(replay, "policy.0"), "policy.2": copying_hook(replay, "policy.2")}
    )
    agent.forward({"observation": OBSERVATION})
    assert set(recording) == {"policy.0"} and set(replay) == {"policy.0", "policy.2"}
    release_replay()
    release_replay()  # twice is harmless
    recording.clear()
    replay.clear()
    agent.forward({"observation": OBSERVATION * 2})
    assert set(recording) == {"policy.0"} and replay == {}  # the recording's hook is still there
    release_recording()
    assert all_hooks(agent) == []
    probe.hold({"policy.4": copying_hook(replay, "policy.4")})
    probe.close()
    assert all_hooks(agent) == []


def test_a_layer_output_that_cannot_be_copied_is_left_out_and_the_forward_goes_on(caplog):
    class SparseOut(torch.nn.Module):
        def forward(self, x):
            return x.to_sparse()  # no numpy form

    class Agent:
        def __init__(self):
            self.net = torch.nn.Sequential(torch.nn.Linear(2, 3), SparseOut())

    agent = Agent()
    probe = ActivationProbe.for_agent(agent)
    for _ in range(2):
        with probe.capture(["net.0", "net.1"]) as captured, torch.no_grad():
            out = agent.net(torch.tensor([[1.0, -1.0]]))
        assert out.is_sparse and set(captured) == {"net.0"}
    warnings = [r for r in caplog.records if "cannot be captured" in r.getMessage()]
    assert len(warnings) == 1 and "'net.1'" in warnings[0].getMessage()  # said once, not every sample
