"""tf-agents agents and policies (type tf_agents): act with policy.action, learn with agent.train,
checkpoint the variables.

tf-agents does not install beside this build (its last release, 0.19, pins typing-extensions 4.5
and TensorFlow Probability 0.23, i.e. TensorFlow 2.15 and numpy 1): these tests run against classes implementing tf-agents' documented interface
(tests/fixtures/tf_agents_like.py: a TFAgent's policy / collect_policy / train /
train_sequence_length / variables, a TFPolicy's action / get_initial_state), which receive
named tuples with tf-agents' TimeStep and Trajectory fields.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config.model import ModelConfig
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.timestep import Timestep

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "tf_agents_like.py"


def _entry(class_name="TinyQAgent", model_type="tfagents.Agent") -> dict:
    return ModelConfig(name="Tfa", type=model_type, path=str(FIXTURE), class_name=class_name).model_dump()


def _agent(class_name="TinyQAgent"):
    agent = build_agent(_entry(class_name), {})
    agent.discrete_actions = True
    return agent


def _steps(n: int, end: bool = True) -> list[Timestep]:
    rng = np.random.default_rng(0)
    obs = [rng.normal(size=4).astype(np.float32) for _ in range(n + 1)]
    return [Timestep(obs[i], i % 2, 1.0, end and i == n - 1, False, obs[i + 1]) for i in range(n)]


def test_a_tf_agents_entry_is_listed_as_trainable_under_its_documented_type_name():
    entry = _entry()
    assert entry["type"] == "tf_agents"
    spec = Catalog([entry], [], []).model("Tfa").spec
    assert spec["error"] is None and spec["kind"] == "tf_agents" and spec["trainable"]
    assert spec["architecture"]["framework"] == "tf-agents"


def test_it_acts_with_the_policy_in_infer_and_the_collect_policy_in_train_with_batched_time_steps():
    agent = _agent()
    obs = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    agent.mode = "INFER"
    action = agent.forward({"observation": obs})["action"]
    assert action == int(np.argmax(obs @ agent.agent.weights.value)) and isinstance(action, int)
    first = agent.agent.policy.time_steps[-1]
    assert first._fields == ("step_type", "reward", "discount", "observation")
    assert first.step_type.tolist() == [0] and first.observation.shape == (1, 4)
    agent.forward({"observation": obs})
    assert agent.agent.policy.time_steps[-1].step_type.tolist() == [1]
    assert agent._policy_state.tolist() == [2]  # the policy state is carried between steps
    agent.mode = "TRAIN"
    agent.forward({"observation": obs})
    assert agent.agent.collect_policy.time_steps
    assert agent.state["info/q_values"] == [(obs @ agent.agent.weights.value).tolist()]


def test_training_gives_windows_of_the_agents_sequence_length_as_a_trajectory():
    agent = _agent()
    result = agent.train(_steps(5))
    experience = agent.agent.experiences[-1]
    assert experience._fields == (
        "step_type",
        "observation",
        "action",
        "policy_info",
        "next_step_type",
        "reward",
        "discount",
    )
    assert experience.observation.shape == (4, 2, 4) and experience.action.shape == (4, 2)
    assert experience.step_type[0].tolist() == [0, 1] and experience.next_step_type[-1].tolist() == [1, 2]
    assert experience.discount[-1].tolist() == [1.0, 0.0]
    assert set(result) == {"loss", "td_error"} and agent.agent.steps.value == 1


def test_a_slice_of_a_long_episode_continues_it_and_a_short_one_is_not_trained():
    agent = _agent()
    agent.train(_steps(3, end=False))
    agent.train(_steps(3))
    assert agent.agent.experiences[-1].step_type[0].tolist() == [1, 1]  # not a new episode
    assert agent.train(_steps(1)) is None


def test_a_checkpoint_holds_the_variables_and_assigns_them_back(tmp_path):
    agent = _agent()
    agent.train(_steps(5))
    agent.save(str(tmp_path))
    saved = agent.agent.weights.numpy()
    fresh = _agent()
    fresh.load(str(tmp_path))
    np.testing.assert_array_equal(fresh.agent.weights.value, saved)
    assert fresh.agent.steps.value == 1
    other = build_agent(_entry("PolicyOnly"), {})
    with pytest.raises(ModelError, match="holds 2 variables, the model has 1"):
        other.load(str(tmp_path))


def test_an_object_holding_only_a_policy_acts_and_does_not_learn():
    agent = _agent("PolicyOnly")
    assert agent.forward({"observation": np.array([0, 1, 0, 0], np.float32)})["action"] == 1
    assert agent.train(_steps(3)) is None


def test_a_class_that_is_neither_agent_nor_policy_is_refused_saying_what_was_expected(tmp_path):
    file = tmp_path / "nothing.py"
    file.write_text("class Nothing:\n    pass\n")
    entry = ModelConfig(name="N", type="tf_agents", path=str(file), class_name="Nothing").model_dump()
    with pytest.raises(ModelError, match="neither a tf-agents agent"):
        build_agent(entry, {})


def test_without_tf_agents_the_entry_names_the_tf_agents_extra(tmp_path, monkeypatch):
    file = tmp_path / "tfa_missing.py"
    file.write_text("from tf_agents.agents.dqn import dqn_agent\n\nclass Agent:\n    pass\n")
    monkeypatch.setitem(__import__("sys").modules, "tf_agents", None)
    entry = ModelConfig(name="T", type="tf_agents", path=str(file), class_name="Agent").model_dump()
    spec = Catalog([entry], [], []).model("T").spec
    assert "needs the tf_agents extra" in spec["error"], spec["error"]
