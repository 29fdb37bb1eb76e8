"""A hand-written CartPole controller: a plain class the zookeeper runs for inference only."""

from __future__ import annotations

from typing import Any

import numpy as np


class BalancingController:
    """Push the cart towards where the pole is falling, damped by its angular velocity."""

    def __init__(self, gain: float = 1.0) -> None:
        # gain weighs the pole's angular velocity against its angle: below ~0.5 the pole
        # over-swings and falls within ~10 steps; 0.5 to 2 balances for all 500 steps.
        self.gain = float(gain)

    def act(self, observation: Any) -> int:
        """0 pushes left, 1 pushes right."""
        x, x_dot, angle, angle_dot = np.asarray(observation, dtype=np.float64)
        # The small cart terms keep it from drifting off the track during a long balance.
        push = 0.1 * x + 0.5 * x_dot + angle + self.gain * angle_dot
        return int(push > 0)
