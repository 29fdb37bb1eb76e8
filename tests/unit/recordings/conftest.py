"""Recordings of real CartPole rollouts, as the worker would write them row by row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np
import pytest

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.sdk.modalities import modality_from_space


@dataclass
class Rollout:
    """Rows of a recording and, per episode, what the env really gave (the ground truth)."""

    rows: list[dict[str, Any]]
    modalities: dict[str, dict[str, Any]]
    seeds: dict[int, int]
    observations: list[list[np.ndarray]] = field(default_factory=list)  # len(actions) + 1 each
    actions: list[list[int]] = field(default_factory=list)
    rewards: list[list[float]] = field(default_factory=list)
    terminations: list[list[bool]] = field(default_factory=list)
    truncations: list[list[bool]] = field(default_factory=list)


def cartpole_rollout(episodes: int, cut_last_after: int | None = None, seed: int = 0) -> Rollout:
    """`episodes` CartPole episodes under a random policy; the last one stops after `cut_last_after` steps."""
    env = gymnasium.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    modalities = {
        "inputs/observation": modality_from_space(env.observation_space),
        "outputs/action": modality_from_space(env.action_space),
    }
    rollout = Rollout(rows=[], modalities=modalities, seeds={})
    step = 0
    for episode in range(episodes):
        rollout.seeds[episode] = seed + 100 + episode
        observation, _ = env.reset(seed=rollout.seeds[episode])
        observations, actions, rewards, terms, truncs = [observation], [], [], [], []
        while True:
            action = int(rng.integers(2))
            next_observation, reward, terminated, truncated, _ = env.step(action)
            cut = episode == episodes - 1 and cut_last_after is not None and len(actions) + 1 == cut_last_after
            ends = terminated or truncated or cut
            rollout.rows.append(
                {
                    "step": step,
                    "episode": episode,
                    "time": 1_700_000_000.0 + step / 50,
                    "reward": float(reward),
                    "terminated": bool(terminated),
                    "truncated": bool(truncated),
                    "overridden": False,
                    "overrides": [],
                    "inputs/observation": observation,
                    "outputs/action": action,
                    "final/observation": next_observation if ends else None,
                }
            )
            observations.append(next_observation)
            actions.append(action)
            rewards.append(float(reward))
            terms.append(bool(terminated))
            truncs.append(bool(truncated))
            observation, step = next_observation, step + 1
            if ends:
                break
        rollout.observations.append(observations)
        rollout.actions.append(actions)
        rollout.rewards.append(rewards)
        rollout.terminations.append(terms)
        rollout.truncations.append(truncs)
    env.close()
    return rollout


@pytest.fixture
def rollout_factory() -> Callable[..., Rollout]:
    return cartpole_rollout


@pytest.fixture
def blobs(tmp_path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")
