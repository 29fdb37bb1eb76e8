"""The bundled models for Corridor and Pendulum run their envs (and the walker learns)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import gymnasium
import numpy as np
import pytest

from ainimal_zookeeper import Timestep

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def example(relative: str) -> ModuleType:
    """Import a file under examples/ by path, as the zookeeper does."""
    path = EXAMPLES / relative
    spec = importlib.util.spec_from_file_location(f"example_ctl_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_swing_up_controller_raises_the_pendulum_and_holds_it_upright(seed):
    controller = example("pendulum_swing_up.py").SwingUpController()
    env = gymnasium.make("Pendulum-v1")
    obs, _ = env.reset(seed=seed)
    uprightness = []
    for _ in range(200):  # one Pendulum-v1 episode
        action = controller.act(obs)
        assert action.shape == (1,) and action.dtype == np.float32 and abs(float(action[0])) <= 2.0
        obs, _, _, truncated, _ = env.step(action)
        uprightness.append(float(obs[0]))  # cos(theta): 1 is upright
    assert truncated and min(uprightness[-50:]) > 0.99, uprightness[-50:]


def episode(walker, env, seed=None, mode="TRAIN"):
    walker.mode = mode
    obs, _ = env.reset(seed=seed)
    steps = []
    while True:
        action = walker.forward({"observation": obs})["action"]
        next_obs, reward, terminated, truncated, _ = env.step(action)
        steps.append(Timestep(obs, action, reward, terminated, truncated, next_obs))
        obs = next_obs
        if terminated or truncated:
            return steps


def test_the_corridor_walker_learns_to_walk_straight_to_the_goal():
    walker = example("corridor_walker.py").CorridorWalker(seed=0)
    env = example("envs/corridor.py").Corridor(length=10)
    for i in range(60):
        walker.train(episode(walker, env, seed=i))
    for seed in range(100, 110):
        steps = episode(walker, env, seed=seed, mode="INFER")
        start = int(np.argmax(steps[0].observation))
        assert steps[-1].terminated and len(steps) == 9 - start  # one step right per cell


def test_the_corridor_walker_takes_the_same_actions_after_a_checkpoint(tmp_path):
    module = example("corridor_walker.py")
    walker = module.CorridorWalker(seed=0)
    env = example("envs/corridor.py").Corridor(length=6)
    for i in range(10):
        walker.train(episode(walker, env, seed=i))
    walker.save(str(tmp_path))
    restored = module.CorridorWalker(seed=99)
    restored.load(str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["walker.json"]
    for seed in (1, 2):
        ours = [s.action for s in episode(walker, env, seed=seed)]
        theirs = [s.action for s in episode(restored, env, seed=seed)]
        assert ours == theirs
