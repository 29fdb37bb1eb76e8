"""REINFORCE with a baseline for CartPole-v1, with a torch policy network (needs torch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ainimal_zookeeper import AInimal, Timestep

POLICY_FILE = "policy.safetensors"
VALUE_FILE = "value.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
BATCH_FILE = "batch.safetensors"
STATE_FILE = "state.json"
BATCH_FIELDS = ("observations", "actions", "returns")
# CartPole's velocities are unbounded but rarely exceed these; dividing keeps tanh unsaturated.
OBS_SCALE = torch.tensor([2.4, 3.0, 0.21, 3.0])
ENTROPY_BONUS = 0.01
VALUE_LEARNING_RATE = 0.01


class TorchReinforceAgent(AInimal):
    """A torch MLP softmax policy trained by REINFORCE with a linear value baseline."""

    AINIMAL_PARAMETERS = (
        {
            "name": "learning_rate",
            "type": "float",
            "default": 0.003,
            "range": [1e-5, 0.1],
            "description": "Adam step size.",
        },
        {
            "name": "gamma",
            "type": "float",
            "default": 0.99,
            "range": [0.8, 1.0],
            "description": "Discount factor for returns.",
        },
        # Updating once per episode solved CartPole in under a second, too fast to watch (and
        # noisier); 5000-step batches take a few seconds in the zookeeper and rarely regress.
        {
            "name": "batch_steps",
            "type": "int",
            "default": 5000,
            "range": [1, 100000],
            "description": "Steps of experience (whole episodes) per policy update.",
        },
        {"name": "seed", "type": "int", "default": 0, "description": "Seeds weights and sampling."},
    )

    def __init__(
        self,
        learning_rate: float = 0.003,
        gamma: float = 0.99,
        batch_steps: int = 5000,
        seed: int = 0,
    ) -> None:
        super().__init__(learning_rate=learning_rate, gamma=gamma, batch_steps=batch_steps, seed=seed)
        self.rng = np.random.default_rng(seed)
        # Seed the initial weights without disturbing the global torch RNG the harness seeded.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.policy = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
            self.value = nn.Linear(4, 1)
            # A near-zero output layer makes the first policy uniform, so every seed starts alike.
            with torch.no_grad():
                self.policy[-1].weight.mul_(0.01)
                self.policy[-1].bias.zero_()
        # The baseline gets its own, faster step: until it tracks the returns, advantages are
        # all positive and the policy drifts towards whatever it happened to do first.
        self.optimizer = torch.optim.Adam(
            [
                {"params": self.policy.parameters(), "lr": float(learning_rate)},
                {"params": self.value.parameters(), "lr": VALUE_LEARNING_RATE},
            ]
        )
        self._configure(self.params)
        self.episodes, self.updates = 0, 0
        self.batch: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.last_probs = [0.5, 0.5]
        self.last_loss = 0.0
        self.recent_returns: list[float] = []

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Sample an action while learning; take the most likely one otherwise."""
        obs = torch.as_tensor(np.asarray(inputs["observation"], dtype=np.float32))
        with torch.no_grad():
            probs = torch.softmax(self.policy(obs / OBS_SCALE), dim=-1).tolist()
        self.last_probs = probs
        if self.mode in ("TRAIN", "BOTH"):
            action = int(self.rng.random() >= probs[0])
        else:
            action = int(probs[1] > probs[0])
        return {"action": action}

    def train(self, traj: list[Timestep]) -> float:
        """Add a finished episode to the batch and update once it is full; returns its loss."""
        obs = np.array([t.observation for t in traj], dtype=np.float32)
        actions = np.array([int(t.action) for t in traj], dtype=np.int64)
        rewards = [float(t.reward) for t in traj]
        returns = _discounted(rewards, self.gamma, self._tail_value(traj[-1]))
        self.batch.append((obs, actions, np.array(returns, dtype=np.float32)))
        self.episodes += 1
        self.recent_returns = (self.recent_returns + [sum(rewards)])[-20:]
        if sum(len(episode[1]) for episode in self.batch) >= self.batch_steps:
            self._update(*(np.concatenate(parts) for parts in zip(*self.batch, strict=True)))
            self.batch = []
        # The loss this episode scores under the current policy: a metric, not the update's.
        with torch.no_grad():
            self.last_loss = self._losses(obs, actions, returns)[0].item()
        return self.last_loss

    def save(self, path: str) -> None:
        """Networks, Adam moments and pending episodes as safetensors; the rest as JSON."""
        folder = Path(path)
        save_file(self.policy.state_dict(), str(folder / POLICY_FILE))
        save_file(self.value.state_dict(), str(folder / VALUE_FILE))
        save_file(_optimizer_tensors(self.optimizer), str(folder / OPTIMIZER_FILE))
        # Episodes waiting for the next update: without them a restored agent would diverge.
        pending = self.batch or [(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.float32))]
        batch = {
            name: torch.from_numpy(np.concatenate(parts))
            for name, parts in zip(BATCH_FIELDS, zip(*pending, strict=True), strict=True)
        }
        save_file(batch, str(folder / BATCH_FILE))
        state = {
            "params": self.params,
            "episodes": self.episodes,
            "updates": self.updates,
            "recent_returns": self.recent_returns,
            "rng": self.rng.bit_generator.state,
        }
        (folder / STATE_FILE).write_text(json.dumps(state))

    def load(self, path: str) -> None:
        """Restore everything `save` wrote, including where the RNG stream had got to."""
        folder = Path(path)
        self.policy.load_state_dict(load_file(str(folder / POLICY_FILE)))
        self.value.load_state_dict(load_file(str(folder / VALUE_FILE)))
        _load_optimizer_tensors(self.optimizer, load_file(str(folder / OPTIMIZER_FILE)))
        batch = load_file(str(folder / BATCH_FILE))
        pending = tuple(batch[name].numpy() for name in BATCH_FIELDS)
        self.batch = [pending] if len(pending[1]) else []
        state = json.loads((folder / STATE_FILE).read_text())
        self.params = state["params"]
        self._configure(self.params)
        self.episodes, self.updates = state["episodes"], state["updates"]
        self.recent_returns = state["recent_returns"]
        self.rng.bit_generator.state = state["rng"]

    @property
    def state(self) -> dict[str, Any]:
        """Last action probabilities, training progress and recent returns."""
        recent = self.recent_returns
        return {
            "action_probs": self.last_probs,
            "episodes_trained": self.episodes,
            "policy_updates": self.updates,
            "batch_steps_pending": sum(len(episode[1]) for episode in self.batch),
            "last_loss": self.last_loss,
            "mean_recent_return": float(np.mean(recent)) if recent else None,
        }

    def _configure(self, params: dict[str, Any]) -> None:
        """Take the hyperparameters from launch parameters (or a checkpoint's copy of them)."""
        self.gamma, self.batch_steps = float(params["gamma"]), int(params["batch_steps"])
        self.optimizer.param_groups[0]["lr"] = float(params["learning_rate"])
        # The baseline predicts returns scaled to about [0, 1] so one Adam step size suits both.
        self.value_scale = 1.0 - self.gamma if self.gamma < 1.0 else 0.01

    def _losses(
        self, obs: np.ndarray, actions: np.ndarray, returns: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Policy loss, entropy and baseline loss on some steps of experience."""
        obs_t = torch.as_tensor(obs) / OBS_SCALE
        returns_t = torch.as_tensor(np.asarray(returns, dtype=np.float32))
        values = self.value(obs_t).squeeze(-1)
        advantages = returns_t - values.detach() / self.value_scale
        # Scaling (not centring: the baseline does that) keeps steps sensible at any return size.
        spread = float(advantages.std()) if len(advantages) > 1 else 0.0
        advantages = advantages / (spread if spread > 1e-6 else 1.0)
        log_probs = torch.log_softmax(self.policy(obs_t), dim=-1)
        chosen = log_probs[torch.arange(len(advantages)), torch.as_tensor(actions)]
        entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
        value_loss = 0.5 * ((values - returns_t * self.value_scale) ** 2).mean()
        return -(advantages * chosen).mean(), entropy, value_loss

    def _update(self, obs: np.ndarray, actions: np.ndarray, returns: np.ndarray) -> None:
        """One Adam step on the batch for both the policy and the baseline."""
        policy_loss, entropy, value_loss = self._losses(obs, actions, returns)
        # The entropy bonus stops the policy saturating into one action, which it cannot undo.
        self.optimizer.zero_grad()
        (policy_loss - ENTROPY_BONUS * entropy + value_loss).backward()
        self.optimizer.step()
        self.updates += 1

    def _tail_value(self, last: Timestep) -> float:
        """Return beyond the episode's end: 0 if terminal, the baseline's guess if cut short."""
        # Treating CartPole's time limit as a failure would teach the agent its best states are bad.
        if last.terminated or not last.truncated or last.next_observation is None:
            return 0.0
        obs = torch.as_tensor(np.asarray(last.next_observation, dtype=np.float32))
        with torch.no_grad():
            return float(self.value(obs / OBS_SCALE)) / self.value_scale


def _discounted(rewards: list[float], gamma: float, tail: float) -> list[float]:
    returns, running = [0.0] * len(rewards), tail
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Adam's per-parameter state flattened to named tensors (safetensors holds no nesting)."""
    tensors = {}
    for index, slots in optimizer.state_dict()["state"].items():
        for name, value in slots.items():
            tensors[f"{index}.{name}"] = torch.as_tensor(value).contiguous()
    return tensors


def _load_optimizer_tensors(optimizer: torch.optim.Optimizer, tensors: dict[str, Any]) -> None:
    """Rebuild Adam's state from `_optimizer_tensors` output, keeping its current settings."""
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        slots.setdefault(int(index), {})[name] = value
    saved = optimizer.state_dict()
    optimizer.load_state_dict({"state": slots, "param_groups": saved["param_groups"]})
