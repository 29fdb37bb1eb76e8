"""A tiny custom environment: walk right along a 1-D corridor to reach its end."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from ainimal_zookeeper import Env

CELL_PIXELS = 8
FLOOR, WALKER, GOAL = (200, 200, 200), (220, 40, 40), (40, 180, 40)


class Corridor(Env):
    """One-hot position in a corridor of `length` cells; action 0 steps left, 1 steps right.

    Each step costs 0.01; reaching the rightmost cell ends the episode with reward +1.
    Episodes are cut short (truncated) after `max_steps` steps.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}

    def __init__(self, length: int = 10, max_steps: int = 50, render_mode: str | None = None):
        if length < 2:
            raise ValueError(f"length must be at least 2, got {length}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
        self.length, self.max_steps, self.render_mode = int(length), int(max_steps), render_mode
        self.observation_space = spaces.Box(0.0, 1.0, (self.length,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.position, self.steps = 0, 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start anywhere but the goal, drawn from the env's seeded generator."""
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(0, self.length - 1))
        self.steps = 0
        return self._observation(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move one cell (walls stop the walker); +1 at the goal, -0.01 otherwise."""
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (left) or 1 (right), got {action!r}")
        move = 1 if int(action) == 1 else -1
        self.position = min(max(self.position + move, 0), self.length - 1)
        self.steps += 1
        terminated = self.position == self.length - 1
        truncated = not terminated and self.steps >= self.max_steps
        reward = 1.0 if terminated else -0.01
        return self._observation(), reward, terminated, truncated, {}

    def render(self) -> np.ndarray | None:
        """A CELL_PIXELS-high strip: grey floor, green goal, red walker."""
        if self.render_mode != "rgb_array":
            return None
        cells = np.full((self.length, 3), FLOOR, dtype=np.uint8)
        cells[-1], cells[self.position] = GOAL, WALKER
        return np.repeat(np.repeat(cells[None], CELL_PIXELS, axis=0), CELL_PIXELS, axis=1)

    def get_state(self) -> dict[str, Any]:
        """Where the walker is and how many steps this episode has taken."""
        return {"position": self.position, "steps": self.steps}

    def set_state(self, state: dict[str, Any]) -> None:
        """Put the walker back where `get_state` found it."""
        position = int(state["position"])
        if not 0 <= position < self.length:
            raise ValueError(f"position {position} is outside a corridor of {self.length} cells")
        self.position, self.steps = position, int(state["steps"])

    def _observation(self) -> np.ndarray:
        obs = np.zeros(self.length, dtype=np.float32)
        obs[self.position] = 1.0
        return obs
