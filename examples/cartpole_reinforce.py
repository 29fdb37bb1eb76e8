"""REINFORCE with a learned baseline for CartPole-v1, in pure numpy (no torch needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from ainimal_zookeeper import AInimal, Timestep

WEIGHTS_FILE = "weights.safetensors"
STATE_FILE = "state.json"
BATCH_FIELDS = ("observations", "actions", "returns")
OBS_SIZE, N_ACTIONS = 4, 2
# CartPole's velocities are unbounded but rarely exceed these; dividing keeps tanh unsaturated.
OBS_SCALE = np.array([2.4, 3.0, 0.21, 3.0])
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8
ENTROPY_BONUS = 0.01
# The baseline's own step size: until it tracks the returns, advantages are all positive and
# the policy drifts towards whatever it happened to do first.
VALUE_LEARNING_RATE = 0.01


class ReinforceAgent(AInimal):
    """A tanh-MLP softmax policy trained by REINFORCE with a linear value baseline."""

    AINIMAL_PARAMETERS = (
        {
            "name": "learning_rate",
            "type": "float",
            "default": 0.01,
            "range": [1e-4, 0.1],
            "description": "Adam step size for the policy.",
        },
        {
            "name": "hidden_units",
            "type": "int",
            "default": 32,
            "range": [4, 256],
            "description": "Width of the policy's hidden tanh layer.",
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
        learning_rate: float = 0.01,
        hidden_units: int = 32,
        gamma: float = 0.99,
        batch_steps: int = 5000,
        seed: int = 0,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            hidden_units=hidden_units,
            gamma=gamma,
            batch_steps=batch_steps,
            seed=seed,
        )
        self._configure(self.params)
        self.rng = np.random.default_rng(seed)
        self.weights = _init_weights(self.rng, int(hidden_units))
        self.moments = {k: np.zeros_like(v) for k, v in self.weights.items()}
        self.squares = {k: np.zeros_like(v) for k, v in self.weights.items()}
        self.adam_steps = 0
        self.episodes = 0
        self.batch: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.last_probs = [0.5, 0.5]
        self.last_loss = 0.0
        self.recent_returns: list[float] = []

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Sample an action while learning; take the most likely one otherwise."""
        probs = _policy(self.weights, np.asarray(inputs["observation"], dtype=np.float64)[None])[0]
        self.last_probs = probs.tolist()
        if self.mode in ("TRAIN", "BOTH"):
            action = int(self.rng.random() >= probs[0])
        else:
            action = int(probs[1] > probs[0])
        return {"action": action}

    def train(self, traj: list[Timestep]) -> float:
        """Add a finished episode to the batch and update once it is full; returns its loss."""
        obs = np.array([t.observation for t in traj], dtype=np.float64)
        actions = np.array([int(t.action) for t in traj])
        rewards = np.array([t.reward for t in traj], dtype=np.float64)
        returns = _discounted(rewards, self.gamma, self._tail_value(traj[-1]))
        self.batch.append((obs, actions, returns))
        self.episodes += 1
        self.recent_returns = (self.recent_returns + [float(rewards.sum())])[-20:]
        # A scalar of its own in the instance's metric history (beside the harness's return and loss).
        self.log("return_avg_20", sum(self.recent_returns) / len(self.recent_returns))
        if sum(len(episode[1]) for episode in self.batch) >= self.batch_steps:
            self._update(*(np.concatenate(parts) for parts in zip(*self.batch, strict=True)))
            self.batch = []
        # The loss this episode scores under the current policy: a metric, not the update's.
        self.last_loss = _policy_loss(self.weights, obs, actions, self._advantages(obs, returns))
        return self.last_loss

    def save(self, path: str) -> None:
        """Weights and Adam moments as safetensors; counters and RNG state as JSON."""
        tensors = {f"w.{k}": v for k, v in self.weights.items()}
        tensors |= {f"m.{k}": v for k, v in self.moments.items()}
        tensors |= {f"v.{k}": v for k, v in self.squares.items()}
        # Episodes waiting for the next update: without them a restored agent would diverge.
        pending = self.batch or [(np.zeros((0, OBS_SIZE)), np.zeros(0, np.int64), np.zeros(0))]
        for name, parts in zip(BATCH_FIELDS, zip(*pending, strict=True), strict=True):
            tensors[f"batch.{name}"] = np.concatenate(parts)
        save_file(tensors, str(Path(path) / WEIGHTS_FILE))
        state = {
            "params": self.params,
            "adam_steps": self.adam_steps,
            "episodes": self.episodes,
            "recent_returns": self.recent_returns,
            "rng": self.rng.bit_generator.state,
        }
        (Path(path) / STATE_FILE).write_text(json.dumps(state))

    def load(self, path: str) -> None:
        """Restore everything `save` wrote, including where the RNG stream had got to."""
        tensors = load_file(str(Path(path) / WEIGHTS_FILE))
        self.weights = {k[2:]: v for k, v in tensors.items() if k.startswith("w.")}
        self.moments = {k[2:]: v for k, v in tensors.items() if k.startswith("m.")}
        self.squares = {k[2:]: v for k, v in tensors.items() if k.startswith("v.")}
        pending = tuple(tensors[f"batch.{name}"] for name in BATCH_FIELDS)
        self.batch = [pending] if len(pending[1]) else []
        state = json.loads((Path(path) / STATE_FILE).read_text())
        self.params = state["params"]
        self._configure(self.params)
        self.adam_steps, self.episodes = state["adam_steps"], state["episodes"]
        self.recent_returns = state["recent_returns"]
        self.rng.bit_generator.state = state["rng"]

    @property
    def state(self) -> dict[str, Any]:
        """Last action probabilities, training progress and recent returns."""
        recent = self.recent_returns
        return {
            "action_probs": self.last_probs,
            "episodes_trained": self.episodes,
            "policy_updates": self.adam_steps,
            "batch_steps_pending": sum(len(episode[1]) for episode in self.batch),
            "last_loss": self.last_loss,
            "mean_recent_return": float(np.mean(recent)) if recent else None,
        }

    def _configure(self, params: dict[str, Any]) -> None:
        """Take the hyperparameters from launch parameters (or a checkpoint's copy of them)."""
        self.learning_rate, self.gamma = float(params["learning_rate"]), float(params["gamma"])
        self.batch_steps = int(params["batch_steps"])
        # The baseline predicts returns scaled to about [0, 1] so one Adam step size suits both.
        self._value_scale = 1.0 - self.gamma if self.gamma < 1.0 else 0.01

    def _update(self, obs: np.ndarray, actions: np.ndarray, returns: np.ndarray) -> None:
        """One policy-gradient step for the policy and one regression step for the baseline."""
        grads = _policy_gradient(self.weights, obs, actions, self._advantages(obs, returns))
        grads.update(_value_gradient(self.weights, obs, returns * self._value_scale))
        self._adam(grads)

    def _advantages(self, obs: np.ndarray, returns: np.ndarray) -> np.ndarray:
        """Returns less the baseline, scaled to unit spread (the baseline already centres them)."""
        advantages = returns - self._baseline(obs)
        spread = float(advantages.std())
        # Scaling keeps the step size sensible whether episodes last 10 or 500 steps.
        return advantages / (spread if spread > 1e-6 else 1.0)

    def _baseline(self, obs: np.ndarray) -> np.ndarray:
        """The baseline's estimate of the discounted return from each observation."""
        return _value(self.weights, obs) / self._value_scale

    def _tail_value(self, last: Timestep) -> float:
        """Return beyond the episode's end: 0 if terminal, the baseline's guess if cut short."""
        # Treating CartPole's 500-step time limit as a failure would teach the agent that its
        # best states are bad, which destabilises an agent that already balances.
        if last.terminated or not last.truncated or last.next_observation is None:
            return 0.0
        return float(self._baseline(np.asarray(last.next_observation, dtype=np.float64)[None])[0])

    def _adam(self, grads: dict[str, np.ndarray]) -> None:
        """Adam update (gradients are of a loss to minimise)."""
        self.adam_steps += 1
        b1, b2 = ADAM_BETAS
        correction = np.sqrt(1 - b2**self.adam_steps) / (1 - b1**self.adam_steps)
        for name, grad in grads.items():
            rate = VALUE_LEARNING_RATE if name == "vw" else self.learning_rate
            scale = rate * correction
            self.moments[name] = b1 * self.moments[name] + (1 - b1) * grad
            self.squares[name] = b2 * self.squares[name] + (1 - b2) * grad**2
            step = scale * self.moments[name] / (np.sqrt(self.squares[name]) + ADAM_EPS)
            self.weights[name] = self.weights[name] - step


def _init_weights(rng: np.random.Generator, hidden: int) -> dict[str, np.ndarray]:
    """Small random first layer; zero output layer so the first policy is uniform."""
    return {
        "w1": rng.normal(0.0, 1.0 / np.sqrt(OBS_SIZE), (OBS_SIZE, hidden)),
        "b1": np.zeros(hidden),
        "w2": np.zeros((hidden, N_ACTIONS)),
        "b2": np.zeros(N_ACTIONS),
        "vw": np.zeros(OBS_SIZE + 1),  # value baseline: linear in the scaled observation
    }


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b without BLAS, whose threads thrash when workers share a few cores (measured 40x)."""
    return np.einsum("ij,j...->i...", a, b)


def _hidden(weights: dict[str, np.ndarray], obs: np.ndarray) -> np.ndarray:
    return np.tanh(_dot(obs / OBS_SCALE, weights["w1"]) + weights["b1"])


def _policy(weights: dict[str, np.ndarray], obs: np.ndarray) -> np.ndarray:
    """Action probabilities for a batch of observations."""
    logits = _dot(_hidden(weights, obs), weights["w2"]) + weights["b2"]
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _value_features(obs: np.ndarray) -> np.ndarray:
    return np.hstack([obs / OBS_SCALE, np.ones((len(obs), 1))])


def _value(weights: dict[str, np.ndarray], obs: np.ndarray) -> np.ndarray:
    return _dot(_value_features(obs), weights["vw"])


def _discounted(rewards: np.ndarray, gamma: float, tail: float = 0.0) -> np.ndarray:
    returns = np.empty_like(rewards)
    running = tail
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def _policy_loss(weights: dict[str, np.ndarray], obs: np.ndarray, actions: np.ndarray, adv: np.ndarray) -> float:
    """The REINFORCE surrogate loss -mean(adv * log pi(a|s))."""
    chosen = _policy(weights, obs)[np.arange(len(actions)), actions]
    return float(-np.mean(adv * np.log(chosen + 1e-12)))


def _policy_gradient(
    weights: dict[str, np.ndarray], obs: np.ndarray, actions: np.ndarray, adv: np.ndarray
) -> dict[str, np.ndarray]:
    """Gradient of `_policy_loss` less an entropy bonus, by hand-written backprop."""
    hidden = _hidden(weights, obs)
    probs = _policy(weights, obs)
    rows = np.arange(len(actions))
    dlogits = probs.copy()
    dlogits[rows, actions] -= 1.0
    dlogits *= adv[:, None]
    # The entropy bonus stops the policy saturating into one action, from which it cannot recover.
    logp = np.log(probs + 1e-12)
    entropy = -(probs * logp).sum(axis=1, keepdims=True)
    dlogits += ENTROPY_BONUS * probs * (logp + entropy)
    dlogits /= len(actions)
    dhidden = _dot(dlogits, weights["w2"].T) * (1.0 - hidden**2)
    return {
        "w2": _dot(hidden.T, dlogits),
        "b2": dlogits.sum(axis=0),
        "w1": _dot((obs / OBS_SCALE).T, dhidden),
        "b1": dhidden.sum(axis=0),
    }


def _value_gradient(weights: dict[str, np.ndarray], obs: np.ndarray, returns: np.ndarray) -> dict[str, np.ndarray]:
    """Gradient of the mean squared error of the baseline."""
    features = _value_features(obs)
    error = _dot(features, weights["vw"]) - returns
    return {"vw": _dot(features.T, error) / len(returns)}
