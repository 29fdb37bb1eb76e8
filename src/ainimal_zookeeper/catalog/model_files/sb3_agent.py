"""Stable-Baselines3 algorithms saved as `.zip` (`algo.save`): act with `predict`, learn with the
algorithm's own buffers and `train`, checkpoint with `algo.save`.

Nothing from the file is unpickled. An SB3 zip holds `data` (JSON, in which objects that are not
JSON are cloudpickled) and `*.pth` state dicts. The state dicts are read with
`torch.load(weights_only=True)`; of `data`, the plain JSON is used as it is and each pickled
entry is rebuilt from what SB3 writes readably beside it (a space's shape, dtype and bounds; the
policy class, matched by name against the algorithm's own policies; `policy_kwargs` whose
classes are torch's activations or optimizers), or reset to the algorithm's default (noted in
the architecture's `reset_to_default`, and settable through the model's `init_params`). A file
whose policy class is not one of the algorithm's own is refused, saying why.

Learning follows `learn`, split at its seam: the worker's steps (the env is the running one, the
actions those `predict` chose while exploring) go into the algorithm's rollout or replay buffer
as `collect_rollouts` would put them, and the algorithm's `train()` runs when `learn` would run
it (a full rollout of `n_steps` for PPO / A2C; every `train_freq` after `learning_starts` for
DQN / SAC / TD3 / DDPG). What `train()` logs becomes the instance's metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files.common import summary
from ainimal_zookeeper.catalog.model_files.framework_common import numbers
from ainimal_zookeeper.catalog.model_files.sb3_zip import build_algorithm, describe, inspect, load_parameters, read_zip
from ainimal_zookeeper.sdk.ainimal import AInimal
from ainimal_zookeeper.sdk.timestep import Timestep


class Sb3AInimal(AInimal):
    """A Stable-Baselines3 algorithm: `predict` acts (deterministic in INFER, exploring as `learn`
    does in TRAIN / BOTH), the worker's steps feed its buffers, its `train()` learns.

    `policy` is the algorithm's torch policy, so its layers are activations (`policy.<path>`).
    """

    def __init__(self, model: dict[str, Any], init_params: dict[str, Any]) -> None:
        super().__init__(**init_params)
        self._config = model
        settings = dict(init_params)
        self.total_timesteps = int(settings.pop("total_timesteps", 1_000_000))
        self._overrides = settings
        self.algo, self._safe, contents = build_algorithm(model, model["path"], settings)
        self.policy = self.algo.policy
        self._architecture = describe(model, self.algo, self._safe, contents)
        self._on_policy = hasattr(self.algo, "rollout_buffer")
        self._episode_start = True
        self._since_train = 0
        self._episodes_since_train = 0
        self._last: dict[str, Any] = {}

    # acting

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        observation = inputs["observation"]
        if self.mode in ("TRAIN", "BOTH"):
            action = self._explore(observation)
        else:
            action, _ = self.algo.predict(observation, deterministic=True)
        action = _env_action(action, self.algo.action_space)
        self._last = {"action": action}
        return {"action": action}

    def _explore(self, observation: Any) -> Any:
        """The action `learn` would take: random before learning_starts, else sampled (plus noise)."""
        algo = self.algo
        if not self._on_policy and algo.num_timesteps < algo.learning_starts:
            return algo.action_space.sample()
        action, _ = algo.predict(observation, deterministic=False)
        noise = getattr(algo, "action_noise", None)
        if noise is not None and hasattr(algo.action_space, "low"):
            scaled = np.clip(algo.policy.scale_action(action) + noise(), -1, 1)
            action = algo.policy.unscale_action(scaled)
        return action

    # learning

    def train(self, traj: list[Timestep]) -> Any:
        if not traj:
            return None
        return self._learn_on_policy(traj) if self._on_policy else self._learn_off_policy(traj)

    def _learn_on_policy(self, traj: list[Timestep]) -> dict[str, float] | None:
        import torch

        algo, buffer, policy = self.algo, self.algo.rollout_buffer, self.algo.policy
        logged: dict[str, float] | None = None
        done = 0
        while done < len(traj):
            chunk = traj[done : done + buffer.buffer_size - buffer.pos]
            done += len(chunk)
            obs = np.stack([np.asarray(t.observation) for t in chunk])
            actions = np.stack([np.asarray(t.action) for t in chunk])
            with torch.no_grad():
                obs_tensor = policy.obs_to_tensor(obs)[0]
                values, log_probs, _ = policy.evaluate_actions(obs_tensor, torch.as_tensor(actions))
            rewards = np.array([t.reward for t in chunk], dtype=np.float32)
            for k, step in enumerate(chunk):
                if step.truncated and not step.terminated and step.next_observation is not None:
                    rewards[k] += algo.gamma * float(self._value(step.next_observation))  # as collect_rollouts does
                buffer.add(
                    obs[k : k + 1],
                    actions[k : k + 1],
                    rewards[k : k + 1],
                    np.array([self._episode_start]),
                    values[k : k + 1].flatten(),
                    log_probs[k : k + 1],
                )
                self._episode_start = bool(step.terminated or step.truncated)
            algo.num_timesteps += len(chunk)
            if buffer.full:
                last = chunk[-1]
                last_value = self._value(last.next_observation if last.next_observation is not None else obs[-1])
                buffer.compute_returns_and_advantage(last_values=last_value, dones=np.array([self._episode_start]))
                logged = self._train_now()
                buffer.reset()
        return logged

    def _value(self, observation: Any) -> Any:
        import torch

        with torch.no_grad():
            return self.algo.policy.predict_values(self.algo.policy.obs_to_tensor(np.asarray(observation))[0])

    def _learn_off_policy(self, traj: list[Timestep]) -> dict[str, float] | None:
        from stable_baselines3.common.type_aliases import TrainFrequencyUnit

        algo = self.algo
        box = hasattr(algo.action_space, "low")
        logged: dict[str, float] | None = None
        for step in traj:
            action = np.asarray(step.action)
            buffer_action = algo.policy.scale_action(action) if box else action
            ended = bool(step.terminated or step.truncated)
            next_obs = step.next_observation if step.next_observation is not None else step.observation
            algo.replay_buffer.add(
                np.asarray(step.observation)[None],
                np.asarray(next_obs)[None],
                np.asarray(buffer_action)[None],
                np.array([step.reward], dtype=np.float32),
                np.array([ended]),
                [{"TimeLimit.truncated": bool(step.truncated and not step.terminated)}],
            )
            algo.num_timesteps += 1
            self._since_train += 1
            self._episodes_since_train += ended
            self._progress()
            algo._on_step()
            freq = algo.train_freq
            due = (
                self._since_train >= freq.frequency
                if freq.unit == TrainFrequencyUnit.STEP
                else self._episodes_since_train >= freq.frequency
            )
            if due:
                if algo.num_timesteps > algo.learning_starts:
                    steps = algo.gradient_steps if algo.gradient_steps >= 0 else self._since_train
                    if steps > 0:
                        logged = self._train_now(gradient_steps=steps, batch_size=algo.batch_size)
                self._since_train = self._episodes_since_train = 0
        return logged

    def _progress(self) -> None:
        algo = self.algo
        algo._total_timesteps = max(self.total_timesteps, 1)
        algo._current_progress_remaining = max(0.0, 1.0 - algo.num_timesteps / algo._total_timesteps)

    def _train_now(self, **kwargs: Any) -> dict[str, float]:
        self._progress()
        self.algo.train(**kwargs)
        logger = self.algo.logger
        logged = numbers(dict(logger.name_to_value))
        logger.dump(self.algo.num_timesteps)  # no outputs: it only clears what train recorded
        return logged

    # checkpoints

    def save(self, path: str) -> None:
        # SB3's own format; the replay buffer is not kept (SB3 saves it apart, pickled).
        self.algo.save(str(Path(path) / "model.zip"))

    def load(self, path: str) -> None:
        contents = read_zip(self._config["name"], Path(path) / "model.zip")
        load_parameters(self._config["name"], self.algo, contents)
        for key in ("num_timesteps", "_n_updates", "_episode_num", "_n_calls"):
            if isinstance(contents.data.get(key), int):
                setattr(self.algo, key, contents.data[key])
        self._episode_start = True
        if self._on_policy:
            self.algo.rollout_buffer.reset()

    # observing

    @property
    def architecture(self) -> dict[str, Any]:
        """The algorithm, its policy, settings and weights' shapes."""
        return self._architecture

    @property
    def state(self) -> dict[str, Any]:
        algo = self.algo
        state: dict[str, Any] = {"num_timesteps": int(algo.num_timesteps)}
        if hasattr(algo, "exploration_rate"):
            state["exploration_rate"] = float(algo.exploration_rate)
        if self._on_policy:
            state["rollout_filled"] = int(algo.rollout_buffer.pos)
        elif getattr(algo, "replay_buffer", None) is not None:
            state["replay_size"] = int(algo.replay_buffer.size())
        state.update({k: summary(v) for k, v in self._last.items()})
        return state


def _env_action(action: Any, space: Any) -> Any:
    """A Discrete action as a Python int (what every env takes); others as arrays."""
    if hasattr(space, "n") and np.ndim(action) == 0:
        return int(action)
    return np.asarray(action)


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> Sb3AInimal:
    """An AInimal running the SB3 zip of a model entry; init parameters override its settings."""
    return Sb3AInimal(model, dict(init_params or {}))


#: `inspect` is read from the zip (sb3_zip.py); the loader table finds both here.
__all__ = ["Sb3AInimal", "build", "inspect"]
