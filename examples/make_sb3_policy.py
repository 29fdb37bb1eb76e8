"""Write `ppo_cartpole.zip`: a Stable-Baselines3 PPO for CartPole-v1, to offer as type sb3.

Run ``python examples/make_sb3_policy.py [steps]`` (it needs the `sb3` extra:
``pip install 'ainimal-zookeeper[sb3]'``). With no steps the algorithm is saved untrained, for
the zookeeper to train it (launch it in TRAIN); with steps, SB3's own `learn` trains it first.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent


def build(path: Path = HERE / "ppo_cartpole.zip", steps: int = 0) -> Path:
    """Make (and optionally train) the algorithm and save it with SB3's `save`; returns its path."""
    from stable_baselines3 import PPO

    algo = PPO("MlpPolicy", "CartPole-v1", n_steps=256, batch_size=64, n_epochs=4, seed=0, device="cpu")
    if steps:
        algo.learn(total_timesteps=steps)
    algo.save(str(path))
    return path


if __name__ == "__main__":
    print(build(steps=int(sys.argv[1]) if len(sys.argv) > 1 else 0))
