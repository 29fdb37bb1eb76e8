"""Stable-Baselines3 algorithms (type sb3): read without unpickling, act with predict, learn with
the algorithm's own buffers and train(), checkpoint as SB3's own zip. Against the real library."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import gymnasium
import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config.model import ModelConfig
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.timestep import Timestep

sb3 = pytest.importorskip("stable_baselines3")
torch = pytest.importorskip("torch")


def _entry(path, algorithm="PPO", name="Sb3", **extra) -> dict:
    return ModelConfig(name=name, type="stable_baselines3", path=str(path), class_name=algorithm, **extra).model_dump()


@pytest.fixture(scope="module")
def ppo_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("sb3") / "ppo.zip"
    algo = sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=16, n_epochs=2, seed=0, device="cpu")
    algo.save(str(path))
    return path, algo


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything calls pickle's or cloudpickle's loads."""
    import cloudpickle

    def refuse(*_args, **_kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(cloudpickle, "loads", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


def _run(agent, env, steps: int, seed: int = 0) -> list:
    """Step like the worker: forward, env.step, train at each episode's end; what train returned."""
    results, trajectory = [], []
    obs, _ = env.reset(seed=seed)
    for _ in range(steps):
        action = agent.forward({"observation": obs})["action"]
        nxt, reward, terminated, truncated, _ = env.step(action)
        trajectory.append(Timestep(obs, action, float(reward), terminated, truncated, nxt))
        obs = nxt
        if terminated or truncated:
            results.append(agent.train(trajectory))
            trajectory = []
            obs, _ = env.reset()
    if trajectory:
        results.append(agent.train(trajectory))
    return results


def test_an_sb3_zip_is_listed_with_its_spaces_and_policy_without_unpickling_anything(ppo_zip, no_unpickling):
    path, _ = ppo_zip
    spec = Catalog([_entry(path)], [], []).model("Sb3").spec
    assert spec["error"] is None and spec["kind"] == "sb3"
    assert spec["modes"] == ["INFER", "TRAIN", "BOTH", "NONE"] and spec["checkpointable"]
    assert spec["inputModalities"]["observation"]["shape"] == [4]
    assert spec["outputModalities"]["action"] == {"kind": "discrete", "n": 2, "start": 0}
    architecture = spec["architecture"]
    assert architecture["framework"] == "stable-baselines3" and architecture["algorithm"] == "PPO"
    assert architecture["policy"] == "ActorCriticPolicy"
    assert architecture["settings"]["n_steps"] == 32 and architecture["parameters"] > 0


def test_the_loaded_algorithm_acts_as_the_saved_one_with_predict(ppo_zip, no_unpickling):
    path, original = ppo_zip
    agent = build_agent(_entry(path), {})
    agent.mode = "INFER"
    rng = np.random.default_rng(1)
    for _ in range(5):
        obs = rng.normal(size=4).astype(np.float32)
        expected, _ = original.predict(obs, deterministic=True)
        assert agent.forward({"observation": obs})["action"] == int(expected)


def test_ppo_learns_from_the_worker_steps_each_time_its_rollout_of_n_steps_is_full(ppo_zip):
    path, _ = ppo_zip
    agent = build_agent(_entry(path), {})
    agent.mode = "TRAIN"
    before = [p.detach().clone() for p in agent.policy.parameters()]
    results = _run(agent, gymnasium.make("CartPole-v1"), 70)
    trained = [r for r in results if r]
    assert agent.algo._n_updates == 2 * 2  # 70 steps: two full rollouts of 32, n_epochs 2 each
    assert {"train/value_loss", "train/policy_gradient_loss", "train/entropy_loss"} <= set(trained[0])
    assert agent.algo.num_timesteps == 70 and agent.algo.rollout_buffer.pos == 70 - 64
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.policy.parameters(), strict=True))


def test_dqn_fills_its_replay_buffer_and_trains_every_train_freq_after_learning_starts(tmp_path):
    path = tmp_path / "dqn.zip"
    sb3.DQN("MlpPolicy", "CartPole-v1", learning_starts=20, train_freq=4, batch_size=8, buffer_size=500, seed=0).save(
        str(path)
    )
    agent = build_agent(_entry(path, "DQN"), {})
    assert agent.algo.train_freq.frequency == 4 and agent.algo.learning_starts == 20
    agent.mode = "TRAIN"
    results = _run(agent, gymnasium.make("CartPole-v1"), 60)
    assert agent.algo.replay_buffer.size() == 60
    assert any(r and "train/loss" in r for r in results)
    assert agent.algo._n_updates == (60 - 20) // 4


def test_sac_acts_within_pendulums_bounds_and_learns_from_scaled_actions(tmp_path):
    path = tmp_path / "sac.zip"
    small = {"net_arch": [16, 16]}
    sb3.SAC("MlpPolicy", "Pendulum-v1", learning_starts=10, batch_size=8, buffer_size=200, policy_kwargs=small).save(
        str(path)
    )
    spec = Catalog([_entry(path, "SAC")], [], []).model("Sb3").spec
    assert spec["outputModalities"]["action"]["shape"] == [1] and spec["error"] is None
    agent = build_agent(_entry(path, "SAC"), {})
    agent.mode = "TRAIN"
    results = _run(agent, gymnasium.make("Pendulum-v1", max_episode_steps=30), 30)
    assert results[-1] and "train/actor_loss" in results[-1]
    assert np.all(np.abs(agent.algo.replay_buffer.actions[:30]) <= 1.0)  # stored scaled, as SB3 does
    assert agent.algo.policy_kwargs["net_arch"] == [16, 16]


def test_a_checkpoint_is_sb3s_own_zip_and_restores_the_weights_into_the_same_policy(ppo_zip, tmp_path):
    path, _ = ppo_zip
    agent = build_agent(_entry(path), {})
    agent.mode = "TRAIN"
    _run(agent, gymnasium.make("CartPole-v1"), 40)
    saved = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    agent.save(str(tmp_path))
    reloaded = sb3.PPO.load(str(tmp_path / "model.zip"), device="cpu")  # SB3 reads it (our test wrote it)
    assert reloaded.num_timesteps == 40
    policy = agent.policy
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(1.0)
    agent.load(str(tmp_path))
    assert agent.policy is policy and agent.algo.num_timesteps == 40
    assert all(torch.equal(saved[k], v) for k, v in policy.state_dict().items())


class CustomPolicy(sb3.common.policies.ActorCriticPolicy):
    """A policy class of the user's own."""


def test_a_zip_whose_policy_class_is_not_the_algorithms_own_is_refused_saying_why(tmp_path, no_unpickling):
    path = tmp_path / "custom.zip"
    sb3.PPO(CustomPolicy, "CartPole-v1", n_steps=16, batch_size=16).save(str(path))
    spec = Catalog([_entry(path)], [], []).model("Sb3").spec
    assert "unpickled" in spec["error"] and "MlpPolicy" in spec["error"], spec["error"]
    agent = build_agent(_entry(path, init_params={"policy": "MlpPolicy"}), {"policy": "MlpPolicy"})
    assert agent.forward({"observation": np.zeros(4, np.float32)})["action"] in (0, 1)


class Payload:
    """Stands for whatever a crafted file could name."""


def test_a_state_dict_holding_pickled_objects_is_refused(ppo_zip, tmp_path):
    path, _ = ppo_zip
    crafted = tmp_path / "crafted.zip"
    buffer = io.BytesIO()
    torch.save({"weights": Payload()}, buffer)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(crafted, "w") as out:
        for name in source.namelist():
            out.writestr(name, buffer.getvalue() if name == "policy.pth" else source.read(name))
    with pytest.raises(ModelError, match="pickled Python objects"):
        build_agent(_entry(crafted), {})


def test_a_file_that_is_not_an_sb3_zip_and_an_unknown_algorithm_say_what_was_expected(ppo_zip, tmp_path):
    path, _ = ppo_zip
    with pytest.raises(ModelError, match="expected one of A2C, DDPG, DQN, PPO, SAC, TD3"):
        build_agent(_entry(path, "PPO2"), {})
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as out:
        out.writestr("readme.txt", "hello")
    with pytest.raises(ModelError, match="no `data` entry"):
        build_agent(_entry(other), {})
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(ModelError, match="not a Stable-Baselines3 zip"):
        build_agent(_entry(tmp_path / "bad.zip"), {})


def test_settings_stored_only_pickled_are_reset_to_defaults_and_listed(ppo_zip, tmp_path):
    path, _ = ppo_zip
    with zipfile.ZipFile(path) as source:
        data = json.loads(source.read("data"))
    assert data["observation_space"][":serialized:"]  # SB3 pickles the spaces: they are rebuilt from text
    spec = Catalog([_entry(path)], [], []).model("Sb3").spec
    assert isinstance(spec["architecture"]["reset_to_default"], list)


def test_without_stable_baselines3_the_entry_names_the_sb3_extra(ppo_zip, monkeypatch):
    path, _ = ppo_zip
    monkeypatch.setitem(__import__("sys").modules, "stable_baselines3", None)
    spec = Catalog([_entry(path)], [], []).model("Sb3").spec
    assert "needs the sb3 extra" in spec["error"] and "ainimal-zookeeper[sb3]" in spec["error"]


def test_launching_a_zip_on_an_env_whose_observations_do_not_fit_says_both_shapes(tmp_path):
    from ainimal_zookeeper.config.model import EnvConfig
    from ainimal_zookeeper.errors import InvalidInput

    path = tmp_path / "pendulum.zip"
    sb3.PPO("MlpPolicy", "Pendulum-v1", n_steps=16, batch_size=16).save(str(path))
    env = EnvConfig(name="CartPole", type="gymnasium", env_name="CartPole-v1").model_dump()
    catalog = Catalog([_entry(path)], [env], [])
    with pytest.raises(InvalidInput, match=r"shape \(3,\).*shape \(4,\)"):
        catalog.plan_launch("Sb3", "CartPole", None, None)
