"""A swing-up controller for gymnasium's Pendulum-v1: pump energy, then balance on top."""

from __future__ import annotations

from typing import Any

import numpy as np

# Pendulum-v1's physics (g = 10, m = l = 1): theta'' = 15 sin(theta) + 3 u, theta = 0 upright.
GRAVITY_TERM, TORQUE_GAIN, MAX_TORQUE = 15.0, 3.0, 2.0
#: Energy (per the units above) of the pendulum at rest on top: 0.5 theta'^2 + 15 cos(theta).
TOP_ENERGY = GRAVITY_TERM


class SwingUpController:
    """Energy-based swing-up, then a PD balance near the top (a plain class, inference only).

    Far from the top it pushes along the swing while the energy is below the top's, so every
    swing climbs higher; within `catch_angle` of the top it holds the pendulum up with a
    proportional-derivative law. The action is a torque in [-2, 2].
    """

    def __init__(self, catch_angle: float = 0.6, stiffness: float = 10.0, damping: float = 2.0) -> None:
        self.catch_angle, self.stiffness, self.damping = float(catch_angle), float(stiffness), float(damping)

    def act(self, observation: Any) -> np.ndarray:
        """The torque for [cos(theta), sin(theta), theta'] as a one-element float32 array."""
        cos, sin, speed = (float(v) for v in np.asarray(observation, dtype=np.float64).reshape(-1)[:3])
        angle = float(np.arctan2(sin, cos))
        if abs(angle) < self.catch_angle:
            torque = -(self.stiffness * angle + self.damping * speed)
        else:
            energy = 0.5 * speed**2 + GRAVITY_TERM * cos
            direction = np.sign(speed) if abs(speed) > 1e-3 else 1.0
            torque = MAX_TORQUE * direction if energy < TOP_ENERGY else -0.5 * MAX_TORQUE * direction
        return np.array([np.clip(torque, -MAX_TORQUE, MAX_TORQUE)], dtype=np.float32)
