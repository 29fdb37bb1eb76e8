"""The catalog inspects and wraps every kind of model and env the config may name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent, build_env, capabilities
from ainimal_zookeeper.errors import InvalidInput, ModelError, NotFound

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
OTHER = str(FIXTURES / "other_kinds.py")
AGENTS = str(FIXTURES / "agents.py")


def model(class_name, type_="python_class", path=OTHER, **more):
    return {"name": class_name, "type": type_, "path": path, "class_name": class_name, **more}


def test_a_plain_class_with_only_act_is_launchable_for_inference_only():
    caps = capabilities(model("InferenceOnly"))
    assert (caps.kind, caps.modes, caps.checkpointable) == ("python_class", ("INFER", "NONE"), False)
    agent = build_agent(model("InferenceOnly"), {})
    assert agent.forward({"observation": np.array([0, 0, 0.1, 0])}) == {"action": 1}


def test_renamed_methods_of_a_plain_class_are_found_through_the_config(tmp_path):
    entry = model("PlainLearner", act_func="policy", train_func="learn", save_func="dump", load_func="restore")
    caps = capabilities(entry)
    assert caps.modes == ("INFER", "TRAIN", "BOTH", "NONE") and caps.checkpointable
    agent = build_agent(entry, {"bias": 1.0})
    assert agent.forward({"observation": np.array([0, 0, -0.5, 0])})["action"] == 1
    assert agent.train([object()] * 10) == 0.5
    agent.save(str(tmp_path))
    fresh = build_agent(entry, {})
    fresh.load(str(tmp_path))
    assert fresh.target.bias == pytest.approx(1.01)


def test_an_ainimal_subclass_reports_the_modes_its_overrides_allow_and_its_parameters():
    caps = capabilities(model("CountingAgent", "ainimal", AGENTS))
    assert caps.kind == "ainimal" and caps.modes == ("INFER", "TRAIN", "BOTH", "NONE") and caps.checkpointable
    assert [p["name"] for p in caps.declared_parameters] == ["start", "label"]
    assert capabilities(model("CrashingAgent", "ainimal", AGENTS)).modes == ("INFER", "NONE")


def test_a_class_declared_ainimal_that_is_not_one_is_refused_with_the_fix():
    with pytest.raises(ModelError, match="does not subclass ainimal_zookeeper.AInimal.*type: python_class"):
        capabilities(model("InferenceOnly", "ainimal"))


def test_a_missing_class_names_the_classes_that_are_there():
    with pytest.raises(ModelError, match="no class 'Nope'.*InferenceOnly"):
        capabilities(model("Nope"))


def test_a_dm_env_is_stepped_through_gymnasium_semantics():
    env = build_env({"name": "Walk", "type": "dm_env", "path": OTHER, "class_name": "Walk"}, {"size": 3})
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [0.0, 1.0, 0.0] and env.action_space.n == 2
    obs, reward, terminated, truncated, _ = env.step(1)
    assert (reward, terminated, truncated) == (1.0, True, False)


def test_a_plain_env_class_with_old_four_value_steps_keeps_truncation_apart():
    env = build_env(
        {
            "name": "Old",
            "type": "python_class",
            "path": OTHER,
            "class_name": "OldStyleEnv",
            "step_function": "advance",
            "reset_function": "begin",
        },
        {},
    )
    env.reset()
    results = [env.step(0)[2:4] for _ in range(3)]
    assert results == [(False, False), (False, False), (False, True)]


def test_a_torch_module_policy_is_wrapped_with_its_architecture(tmp_path):
    pytest.importorskip("torch")
    from ainimal_zookeeper.worker.introspection import describe_agent

    entry = model("TinyPolicy", "torch")
    assert capabilities(entry).modes == ("INFER", "NONE")
    agent = build_agent(entry, {"hidden": 8})
    agent.discrete_actions = True
    env = build_env({"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}, {})
    obs, _ = env.reset(seed=0)
    assert agent.forward({"observation": obs})["action"] in (0, 1)
    described = describe_agent(agent, env, obs)
    layers = {layer["name"]: layer for layer in described["layers"]}
    assert described["framework"] == "torch" and described["parameters"] == 4 * 8 + 8 + 8 * 2 + 2
    assert layers["module.body.0"]["parameters"] == 40 and layers["module.body.0"]["output_shape"] == [1, 8]
    assert layers["module.body.2"]["shapes"] == {"weight": [2, 8], "bias": [2]}
    assert described["inputModalities"]["observation"]["shape"] == [4]
    agent.save(str(tmp_path))
    other = build_agent(entry, {"hidden": 8})
    other.discrete_actions = True
    other.load(str(tmp_path))
    assert (
        other.forward({"observation": obs})["logits"].tolist() == agent.forward({"observation": obs})["logits"].tolist()
    )


def test_the_catalog_lists_broken_entries_with_their_error_and_refuses_to_launch_them():
    catalog = Catalog(
        [model("InferenceOnly"), model("Ghost", path="/nowhere/ghost.py")],
        [
            {"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"},
            {"name": "Bad", "type": "gymnasium", "env_name": "NoSuchEnv-v0"},
        ],
        [],
    )
    specs = {entry.name: entry.spec for entry in catalog.models()}
    assert specs["InferenceOnly"]["error"] is None and "no such file" in specs["Ghost"]["error"]
    assert "NoSuchEnv" in catalog.environment("Bad").spec["error"]
    with pytest.raises(InvalidInput, match="'Ghost' cannot be launched"):
        catalog.plan_launch("Ghost", "CartPole", None, None)
    with pytest.raises(NotFound, match="known: Ghost, InferenceOnly"):
        catalog.plan_launch("Nobody", None, None, None)


def test_init_params_take_launch_parameters_through_interpolation():
    env = {
        "name": "Walk",
        "type": "dm_env",
        "path": OTHER,
        "class_name": "Walk",
        "create_params": [{"name": "n", "type": "int", "default": 5, "range": [3, 9]}],
        "init_params": {"size": "${params.n}"},
    }
    catalog = Catalog([model("CountingAgent", "ainimal", AGENTS)], [env], [])
    plan = catalog.plan_launch("CountingAgent", "Walk", {"start": "3"}, {"n": 7})
    assert plan.env_init_params == {"size": 7}
    assert plan.init_params == {"start": 3, "label": "a"}
    assert catalog.environment("Walk").spec["observationModalities"]["observation"]["shape"] == [5]


def test_a_local_model_hub_offers_every_ainimal_and_env_defined_in_its_files(tmp_path):
    (tmp_path / "zoo_agent.py").write_text(
        "from ainimal_zookeeper import AInimal, Env\n"
        "import gymnasium\n"
        "class HubAgent(AInimal):\n    def forward(self, inputs):\n        return {'action': 0}\n"
        "class HubEnv(Env):\n"
        "    observation_space = gymnasium.spaces.Discrete(2)\n    action_space = gymnasium.spaces.Discrete(2)\n"
        "    def reset(self, *, seed=None, options=None):\n        super().reset(seed=seed)\n        return 0, {}\n"
        "    def step(self, action):\n        return 0, 0.0, True, False, {}\n"
    )
    (tmp_path / "broken.py").write_text("raise ImportError('broken on purpose')\n")
    catalog = Catalog([], [], [{"type": "local_filesystem", "root": str(tmp_path)}])
    assert [e.name for e in catalog.models()] == ["HubAgent"]
    assert [e.name for e in catalog.environments()] == ["HubEnv"]
    assert catalog.environment("HubEnv").spec["actionModalities"] == {
        "action": {"kind": "discrete", "n": 2, "start": 0}
    }


def test_a_gymnasium_env_that_can_render_arrays_is_made_in_rgb_array_mode_so_frames_can_stream():
    from ainimal_zookeeper.worker.frames import render_rgb

    env = build_env({"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}, {})
    env.reset(seed=0)
    assert env.render_mode == "rgb_array" and render_rgb(env).shape == (400, 600, 3)
    chosen = build_env({"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}, {"render_mode": None})
    assert chosen.render_mode is None  # the operator's init params decide when they say
