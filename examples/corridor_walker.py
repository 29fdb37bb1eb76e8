"""Tabular Q-learning for the Corridor env, in pure numpy: a model that learns to walk right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper import AInimal, Timestep

STATE_FILE = "walker.json"
LEFT, RIGHT = 0, 1


class CorridorWalker(AInimal):
    """One value per (cell, action), learnt by Q-learning; epsilon-greedy while it learns.

    The table grows to the corridor's length (the observation is a one-hot position), so one
    walker runs a corridor of any length. Untrained, both actions are worth the same and it
    picks one at random; after a few episodes of training it walks straight to the goal.
    """

    AINIMAL_PARAMETERS = (
        {
            "name": "learning_rate",
            "type": "float",
            "default": 0.5,
            "range": [0.01, 1.0],
            "description": "How far each step moves a value towards its target.",
        },
        {
            "name": "epsilon",
            "type": "float",
            "default": 0.1,
            "range": [0.0, 1.0],
            "description": "Chance of a random action while training.",
        },
        {
            "name": "gamma",
            "type": "float",
            "default": 0.95,
            "range": [0.5, 1.0],
            "description": "Discount factor for future rewards.",
        },
        {"name": "seed", "type": "int", "default": 0, "description": "Seeds exploration and tie-breaking."},
    )

    def __init__(self, learning_rate: float = 0.5, epsilon: float = 0.1, gamma: float = 0.95, seed: int = 0) -> None:
        super().__init__(learning_rate=learning_rate, epsilon=epsilon, gamma=gamma, seed=seed)
        self.learning_rate, self.epsilon, self.gamma = float(learning_rate), float(epsilon), float(gamma)
        self.rng = np.random.default_rng(seed)
        self.values = np.zeros((0, 2))
        self.updates = 0
        self.last_values = [0.0, 0.0]

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Step towards the better-valued side (explore with chance epsilon while training)."""
        row = self._row(inputs["observation"])
        self.last_values = row.tolist()
        if self.mode in ("TRAIN", "BOTH") and self.rng.random() < self.epsilon:
            return {"action": int(self.rng.integers(2))}
        if row[LEFT] == row[RIGHT]:
            return {"action": int(self.rng.integers(2))}
        return {"action": int(row[RIGHT] > row[LEFT])}

    def train(self, traj: list[Timestep]) -> dict[str, float]:
        """One Q-learning update per step; returns the mean absolute change as `td_error`."""
        errors = []
        for step in traj:
            row = self._row(step.observation)
            target = float(step.reward)
            if not step.terminated and step.next_observation is not None:
                target += self.gamma * float(self._row(step.next_observation).max())
            error = target - row[int(step.action)]
            row[int(step.action)] += self.learning_rate * error
            errors.append(abs(error))
        self.updates += len(traj)
        return {"td_error": float(np.mean(errors)) if errors else 0.0}

    def save(self, path: str) -> None:
        """The value table, the counters and the generator's state, as JSON."""
        state = {"values": self.values.tolist(), "updates": self.updates, "rng": self.rng.bit_generator.state}
        (Path(path) / STATE_FILE).write_text(json.dumps(state))

    def load(self, path: str) -> None:
        """Restore what `save` wrote."""
        state = json.loads((Path(path) / STATE_FILE).read_text())
        self.values = np.asarray(state["values"], dtype=np.float64).reshape(-1, 2)
        self.updates = int(state["updates"])
        self.rng.bit_generator.state = state["rng"]

    @property
    def state(self) -> dict[str, Any]:
        """The values of the cell just seen, and how many steps it has learnt from."""
        return {"values_here": self.last_values, "cells_known": len(self.values), "updates": self.updates}

    def _row(self, observation: Any) -> np.ndarray:
        """The value row (a view) of the cell a one-hot observation marks; the table grows to fit."""
        one_hot = np.asarray(observation).reshape(-1)
        if len(one_hot) > len(self.values):
            grown = np.zeros((len(one_hot), 2))
            grown[: len(self.values)] = self.values
            self.values = grown
        return self.values[int(np.argmax(one_hot))]
