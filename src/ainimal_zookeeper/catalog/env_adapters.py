"""Present dm_env environments and plain Python classes as gymnasium environments.

The worker's loop speaks gymnasium only (reset -> (obs, info), step -> five values with
`terminated` and `truncated` apart); these adapters translate the other conventions.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces


def spec_to_space(spec: Any) -> spaces.Space:
    """A gymnasium space for a dm_env spec (Array, BoundedArray, DiscreteArray, nests)."""
    if isinstance(spec, dict):
        return spaces.Dict({k: spec_to_space(v) for k, v in spec.items()})
    if isinstance(spec, (list, tuple)):
        return spaces.Tuple([spec_to_space(v) for v in spec])
    if hasattr(spec, "num_values"):
        return spaces.Discrete(int(spec.num_values))
    low = getattr(spec, "minimum", -np.inf)
    high = getattr(spec, "maximum", np.inf)
    dtype = np.dtype(spec.dtype)
    if not np.issubdtype(dtype, np.number):
        dtype = np.dtype(np.float32)
    return spaces.Box(
        low=np.broadcast_to(low, spec.shape).astype(dtype),
        high=np.broadcast_to(high, spec.shape).astype(dtype),
        shape=spec.shape,
        dtype=dtype,
    )


class DmEnvAdapter(gymnasium.Env):  # type: ignore[misc]
    """A `dm_env.Environment` seen through gymnasium's API.

    dm_env ends an episode with a LAST step whose discount says why: 0 means a terminal state
    (terminated), anything else a cut-off (truncated).
    """

    def __init__(self, env: Any) -> None:
        self.dm_env = env
        self.observation_space = spec_to_space(env.observation_spec())
        self.action_space = spec_to_space(env.action_spec())

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        timestep = self.dm_env.reset()
        return timestep.observation, {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        timestep = self.dm_env.step(action)
        reward = float(timestep.reward or 0.0)
        last = bool(timestep.last())
        terminal = last and timestep.discount is not None and float(np.asarray(timestep.discount).max()) == 0.0
        return timestep.observation, reward, terminal, last and not terminal, {"discount": timestep.discount}

    def close(self) -> None:
        self.dm_env.close()


class PythonClassEnv(gymnasium.Env):  # type: ignore[misc]
    """A plain class with its own step / reset functions (names from the config).

    `step` may return gymnasium's five values, the older four (obs, reward, done, info), or a
    dm_env TimeStep; `reset` may return an observation, (obs, info), or a TimeStep.
    """

    def __init__(self, target: Any, step_function: str = "step", reset_function: str = "reset") -> None:
        self.target = target
        self._step = getattr(target, step_function)
        self._reset = getattr(target, reset_function, None)
        # A plain class may declare no spaces: then the client shows its values untyped.
        self.observation_space: Any = getattr(target, "observation_space", None)
        self.action_space: Any = getattr(target, "action_space", None)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if self._reset is None:
            return None, {}
        result = self._reset()
        if hasattr(result, "observation") and hasattr(result, "step_type"):
            return result.observation, {}
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
            return result[0], result[1]
        return result, {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        result = self._step(action)
        if hasattr(result, "observation") and hasattr(result, "step_type"):
            last = bool(result.last())
            terminal = last and float(np.asarray(result.discount if result.discount is not None else 1.0).max()) == 0.0
            return result.observation, float(result.reward or 0.0), terminal, last and not terminal, {}
        if len(result) == 5:
            obs, reward, terminated, truncated, info = result
            return obs, float(reward), bool(terminated), bool(truncated), dict(info or {})
        obs, reward, done, info = result
        info = dict(info or {})
        # Old gym marked time-limit ends in info; keep them apart from real terminations.
        truncated = bool(info.pop("TimeLimit.truncated", False))
        return obs, float(reward), bool(done) and not truncated, truncated, info


__all__ = ["DmEnvAdapter", "PythonClassEnv", "spec_to_space"]
