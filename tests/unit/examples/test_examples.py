"""The bundled examples act, checkpoint, learn and pass checks, driven as the zookeeper does."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec
from gymnasium.utils.env_checker import check_env

from ainimal_zookeeper import AInimal, Timestep
from ainimal_zookeeper.sdk.parameters import parse_parameters, validate_values

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
LEARNING_SEED = 0
# About 3 s. With the default 5000-step batches, seed 0 measured 21 -> 461 over its first and
# last 20 episodes; ten seeds gave 17..33 -> 152..500, so the thresholds below leave margin.
LEARNING_EPISODES = 1600
SMALL_BATCH = 60  # a few CartPole episodes: updates happen, and episodes are left pending


@functools.cache
def example(relative: str) -> ModuleType:
    """Import a file under examples/ (not a package) the way the zookeeper loads it: by path."""
    path = EXAMPLES / relative
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reinforce_agent_class() -> type[AInimal]:
    return example("cartpole_reinforce.py").ReinforceAgent


def torch_agent_class() -> type[AInimal]:
    pytest.importorskip("torch")
    return example("torch_policy.py").TorchReinforceAgent


@pytest.fixture(params=["numpy", "torch"])
def agent_class(request) -> type[AInimal]:
    """Each learning agent class in turn (the torch one skipped without torch)."""
    return torch_agent_class() if request.param == "torch" else reinforce_agent_class()


def run_episode(agent: AInimal, env: gymnasium.Env, mode: str, seed: int | None = None) -> tuple:
    """One episode exactly as the harness runs it; returns (return, loss or None)."""
    agent.mode = mode
    observation, _ = env.reset(seed=seed)
    trajectory, total = [], 0.0
    while True:
        action = agent.forward({"observation": observation})["action"]
        next_observation, reward, terminated, truncated, info = env.step(action)
        ended = bool(terminated), bool(truncated)
        trajectory.append(Timestep(observation, action, float(reward), *ended, next_observation, info))
        total += float(reward)
        observation = next_observation
        if terminated or truncated:
            break
    loss = agent.train(trajectory) if mode in ("TRAIN", "BOTH") else None
    return total, loss


def cartpole_observations(count: int, seed: int = 7) -> list[np.ndarray]:
    """Varied CartPole observations from random play (reset whenever the pole falls)."""
    env = gymnasium.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    observation, _ = env.reset(seed=seed)
    observations = []
    for _ in range(count):
        observations.append(observation)
        observation, _, terminated, truncated, _ = env.step(int(rng.integers(2)))
        if terminated or truncated:
            observation, _ = env.reset()
    return observations


def actions(agent: AInimal, observations: list[np.ndarray], mode: str) -> list[Any]:
    agent.mode = mode
    return [agent.forward({"observation": obs})["action"] for obs in observations]


def trained(agent_class: type[AInimal], episodes: int, seed: int = 3) -> AInimal:
    agent = agent_class(seed=seed, batch_steps=SMALL_BATCH)
    env = gymnasium.make("CartPole-v1")
    for episode in range(episodes):
        run_episode(agent, env, "TRAIN", seed=seed + episode)
    return agent


# --- the learning agents (numpy and torch) -----------------------------------------------------


def test_the_declared_parameter_defaults_validate_and_build_the_agent(agent_class):
    declared = parse_parameters(agent_class.AINIMAL_PARAMETERS, "AINIMAL_PARAMETERS")
    agent = agent_class(**validate_values(declared, {}, agent_class.__name__))
    assert {"learning_rate", "gamma", "batch_steps", "seed"} <= {p.name for p in declared}
    assert all(agent_class.supports(method) for method in ("train", "save", "load"))
    assert agent.mode in ("TRAIN", "INFER", "BOTH", "NONE")


@pytest.mark.parametrize("mode", ["TRAIN", "BOTH", "INFER"])
def test_the_agent_plays_a_cartpole_episode_in_each_acting_mode(agent_class, mode):
    agent = agent_class(seed=1)
    total, loss = run_episode(agent, gymnasium.make("CartPole-v1"), mode, seed=1)
    assert total >= 5.0  # even pushing one way throughout lasts about 9 steps
    if mode == "INFER":
        assert loss is None
    else:
        assert isinstance(loss, float) and np.isfinite(loss)
    json.dumps(agent.state)  # the inspector shows it as JSON


def test_the_agent_state_reports_action_probabilities_and_training_progress(agent_class):
    agent = trained(agent_class, episodes=2)
    agent.forward({"observation": np.zeros(4, dtype=np.float32)})
    state = agent.state
    assert state["episodes_trained"] == 2
    assert len(state["action_probs"]) == 2
    assert sum(state["action_probs"]) == pytest.approx(1.0)


def test_the_policy_changes_only_once_a_batch_of_steps_is_full(agent_class):
    agent = agent_class(seed=5, batch_steps=SMALL_BATCH)
    env, observations = gymnasium.make("CartPole-v1"), cartpole_observations(20)
    before = [agent.forward({"observation": obs}) and agent.state["action_probs"] for obs in observations]
    steps = 0
    while steps + 30 < SMALL_BATCH:  # CartPole episodes are rarely this long while untrained
        total, _ = run_episode(agent, env, "TRAIN", seed=steps)
        steps += int(total)
        assert agent.state["policy_updates"] == 0
        assert agent.state["batch_steps_pending"] == steps
    while agent.state["policy_updates"] == 0:
        run_episode(agent, env, "TRAIN")
    assert agent.state["batch_steps_pending"] == 0
    after = [agent.forward({"observation": obs}) and agent.state["action_probs"] for obs in observations]
    assert before != after


def test_in_infer_mode_the_agent_always_takes_the_same_action_for_an_observation(agent_class):
    agent = trained(agent_class, episodes=3)
    observations = cartpole_observations(50)
    assert actions(agent, observations, "INFER") == actions(agent, observations, "INFER")


def test_a_checkpoint_holds_only_safetensors_and_json_files(agent_class, tmp_path):
    trained(agent_class, episodes=2).save(str(tmp_path))
    suffixes = {path.suffix for path in tmp_path.iterdir()}
    assert ".safetensors" in suffixes
    assert suffixes <= {".safetensors", ".json"}


@pytest.mark.parametrize("mode", ["TRAIN", "INFER"])
def test_an_agent_loaded_from_a_checkpoint_takes_the_same_actions(agent_class, mode, tmp_path):
    original = trained(agent_class, episodes=5)
    original.save(str(tmp_path))
    restored = agent_class(seed=99)  # a different seed: everything must come from the files
    restored.load(str(tmp_path))
    observations = cartpole_observations(200)
    # In TRAIN mode actions are sampled, so this also checks the random stream was restored.
    assert actions(restored, observations, mode) == actions(original, observations, mode)


def test_an_agent_loaded_from_a_checkpoint_keeps_learning_identically(agent_class, tmp_path):
    original = trained(agent_class, episodes=5)
    assert original.state["policy_updates"] > 0 and original.state["batch_steps_pending"] > 0
    original.save(str(tmp_path))
    restored = agent_class(seed=99)
    restored.load(str(tmp_path))
    env_a, env_b = gymnasium.make("CartPole-v1"), gymnasium.make("CartPole-v1")
    # Updates from here on need the optimiser's moments and the episodes pending at the save.
    for episode in range(6):
        assert run_episode(restored, env_b, "TRAIN", seed=episode) == run_episode(
            original, env_a, "TRAIN", seed=episode
        )
    observations = cartpole_observations(100)
    assert actions(restored, observations, "INFER") == actions(original, observations, "INFER")


def test_the_reinforce_agent_learns_to_balance_in_a_few_seconds_of_training():
    np.random.seed(LEARNING_SEED)  # as the harness does; the agent should not depend on it
    agent = reinforce_agent_class()(seed=LEARNING_SEED)
    env = gymnasium.make("CartPole-v1")
    returns = [
        run_episode(agent, env, "TRAIN", seed=LEARNING_SEED if episode == 0 else None)[0]
        for episode in range(LEARNING_EPISODES)
    ]
    first, last = np.mean(returns[:20]), np.mean(returns[-20:])
    assert first < 40, returns[:20]  # a near-uniform policy drops the pole in ~20 steps
    assert last > 100 and last >= 3 * first, (first, last)


# --- the plain controller ----------------------------------------------------------------------


def test_the_plain_controller_is_not_an_ainimal_and_only_acts():
    controller_class = example("plain_agent.py").BalancingController
    assert not issubclass(controller_class, AInimal)
    assert not any(hasattr(controller_class, name) for name in ("train", "save", "load"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_plain_controller_balances_cartpole_for_a_full_episode(seed):
    controller = example("plain_agent.py").BalancingController()
    env = gymnasium.make("CartPole-v1")
    observation, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        observation, reward, terminated, truncated, _ = env.step(controller.act(observation))
        total += float(reward)
        done = terminated or truncated
    assert total == 500.0


def test_the_plain_controller_without_damping_drops_the_pole():
    controller = example("plain_agent.py").BalancingController(gain=0.0)
    env = gymnasium.make("CartPole-v1")
    observation, _ = env.reset(seed=0)
    for _ in range(100):
        observation, _, terminated, _, _ = env.step(controller.act(observation))
        if terminated:
            return
    pytest.fail("the pole stayed up without damping")


# --- the corridor environment ------------------------------------------------------------------


def corridor(**kwargs: Any) -> gymnasium.Env:
    """A Corridor with a spec, so check_env can also build it in its other render modes."""
    cls = example("envs/corridor.py").Corridor
    env = cls(**kwargs)
    make_kwargs = {k: v for k, v in kwargs.items() if k != "render_mode"}
    env.spec = EnvSpec("Corridor-v0", entry_point=cls, kwargs=make_kwargs)
    return env


@pytest.mark.parametrize("kwargs", [{}, {"length": 2}, {"length": 30, "max_steps": 5}, {"render_mode": "rgb_array"}])
def test_the_corridor_passes_gymnasiums_env_checker(kwargs):
    check_env(corridor(**kwargs))


def test_the_corridor_observation_is_one_hot_of_its_length():
    env = corridor(length=7)
    observation, _ = env.reset(seed=0)
    assert observation.shape == (7,) and observation.dtype == np.float32
    assert observation.sum() == 1.0 and observation[-1] == 0.0  # never starts at the goal


def test_walking_right_reaches_the_goal_with_reward_one():
    env = corridor(length=5)
    env.reset(seed=0)
    env.set_state({"position": 3, "steps": 0})
    observation, reward, terminated, truncated, _ = env.step(1)
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert observation[-1] == 1.0


def test_walking_into_the_left_wall_costs_a_step_until_truncation():
    env = corridor(length=5, max_steps=3)
    env.reset(seed=0)
    env.set_state({"position": 0, "steps": 0})
    results = [env.step(0)[1:4] for _ in range(3)]
    assert results == [(-0.01, False, False), (-0.01, False, False), (-0.01, False, True)]
    assert env.get_state() == {"position": 0, "steps": 3}


def test_the_corridor_start_position_follows_the_seed():
    starts = {seed: int(np.argmax(corridor(length=50).reset(seed=seed)[0])) for seed in range(20)}
    again = {seed: int(np.argmax(corridor(length=50).reset(seed=seed)[0])) for seed in range(20)}
    assert starts == again
    assert len(set(starts.values())) > 1


def test_the_corridor_state_round_trips_through_json_into_a_fresh_env():
    env = corridor(length=12)
    env.reset(seed=4)
    for action in (1, 1, 0, 1):
        env.step(action)
    state = json.loads(json.dumps(env.get_state()))
    copy = corridor(length=12)
    copy.reset(seed=99)
    copy.set_state(state)
    assert copy.get_state() == env.get_state()
    for action in (1, 0, 1, 1, 1):
        mine, theirs = env.step(action), copy.step(action)
        assert np.array_equal(mine[0], theirs[0]) and mine[1:4] == theirs[1:4]


def test_the_corridor_renders_a_small_rgb_image_with_the_walker_and_the_goal():
    env = corridor(length=6, render_mode="rgb_array")
    env.reset(seed=0)
    env.set_state({"position": 2, "steps": 0})
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[1] == 6 * image.shape[0]  # one square per cell
    cell = image.shape[0]
    assert not np.array_equal(image[0, 2 * cell], image[0, 0])  # the walker stands out
    assert not np.array_equal(image[0, 5 * cell], image[0, 0])  # so does the goal


def test_the_corridor_refuses_a_state_outside_it():
    env = corridor(length=4)
    with pytest.raises(ValueError, match="outside"):
        env.set_state({"position": 4, "steps": 0})
