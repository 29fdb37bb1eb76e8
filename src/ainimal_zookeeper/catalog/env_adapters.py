"""Present dm_env environments and plain Python classes as gymnasium environments.

The worker's loop speaks gymnasium only (reset -> (obs, info), step -> five values with
`terminated` and `truncated` apart); these adapters translate the other conventions.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from ainimal_zookeeper.catalog.env_seeding import accepted_keywords, reset_arguments
from ainimal_zookeeper.catalog.faults import EntryFault
from ainimal_zookeeper.catalog.space_inference import (
    DECLARE_OBSERVATIONS,
    Converter,
    infer_action_space,
    infer_observation_space,
)


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
    (terminated), anything else a cut-off (truncated). dm_env's reset takes no seed: it is
    passed the way the environment takes one (`env_seeding.reset_arguments`).
    """

    #: Its seed may go to the global generators (`env_seeding`): a recording seeds every episode.
    randomness_may_be_global = True

    def __init__(self, env: Any) -> None:
        self.dm_env = env
        self.observation_space = spec_to_space(env.observation_spec())
        self.action_space = spec_to_space(env.action_spec())
        self._reset_keywords = accepted_keywords(env.reset)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        timestep = self.dm_env.reset(**reset_arguments(self._reset_keywords, self.dm_env, seed, options))
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
    dm_env TimeStep; `reset` may return an observation, (obs, info), or a TimeStep. Spaces are
    the class's own (`observation_space` / `action_space`, or dm_env's `observation_spec()` /
    `action_spec()`); a class without them gets them inferred (catalog/space_inference.py):
    the observation space from its first observation, the action space from its `actions`.
    The instance's random seed reaches its reset however it takes one (`env_seeding.reset_arguments`).
    """

    #: Its seed may go to the global generators (`env_seeding`): a recording seeds every episode.
    randomness_may_be_global = True

    def __init__(self, target: Any, step_function: str = "step", reset_function: str = "reset") -> None:
        self.target = target
        owner = type(target).__name__
        step = getattr(target, step_function, None)
        if not callable(step):
            raise EntryFault(
                f"{owner} has no method {step_function!r} to step it",
                f"name its step method with step_function (methods there: {_methods(target)})",
                "step_function",
            )
        self._step = step
        self._reset = getattr(target, reset_function, None)
        if self._reset is not None and not callable(self._reset):
            self._reset = None
        self._reset_keywords = accepted_keywords(self._reset) if self._reset is not None else frozenset()
        self._observe: Converter | None = None  # set when the observation space is inferred
        self._to_action: Converter | None = None  # set when listed actions are not 0..n-1
        observation_space = self._declared(target, "observation_space", "observation_spec")
        action_space = self._declared(target, "action_space", "action_spec")
        if action_space is None:
            action_space, self._to_action = infer_action_space(target, owner)
        if observation_space is None:
            if self._reset is None:
                raise EntryFault(
                    f"{owner} declares no observation space and has no method {reset_function!r} to observe "
                    "its first observation from",
                    f"{DECLARE_OBSERVATIONS}, or name its reset method with reset_function",
                    "reset_function",
                )
            first, _ = _split_reset(self._reset(**reset_arguments(self._reset_keywords, target, None, None)))
            observation_space, self._observe = infer_observation_space(first, owner)
        self.observation_space: spaces.Space = observation_space
        self.action_space: spaces.Space = action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if self._reset is None:
            return None, {}
        observation, info = _split_reset(
            self._reset(**reset_arguments(self._reset_keywords, self.target, seed, options))
        )
        return (self._observe(observation) if self._observe else observation), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        result = self._step(self._to_action(action) if self._to_action else action)
        observe = self._observe or _same
        if hasattr(result, "observation") and hasattr(result, "step_type"):
            last = bool(result.last())
            terminal = last and float(np.asarray(result.discount if result.discount is not None else 1.0).max()) == 0.0
            return observe(result.observation), float(result.reward or 0.0), terminal, last and not terminal, {}
        if len(result) == 5:
            obs, reward, terminated, truncated, info = result
            return observe(obs), float(reward), bool(terminated), bool(truncated), dict(info or {})
        obs, reward, done, info = result
        info = dict(info or {})
        # Old gym marked time-limit ends in info; keep them apart from real terminations.
        truncated = bool(info.pop("TimeLimit.truncated", False))
        return observe(obs), float(reward), bool(done) and not truncated, truncated, info

    def close(self) -> None:
        close = getattr(self.target, "close", None)
        if callable(close):
            close()

    @staticmethod
    def _declared(target: Any, attribute: str, spec_method: str) -> spaces.Space | None:
        space = getattr(target, attribute, None)
        if isinstance(space, spaces.Space):
            return space
        spec = getattr(target, spec_method, None)
        return spec_to_space(spec()) if callable(spec) else None


def _split_reset(result: Any) -> tuple[Any, dict[str, Any]]:
    """(observation, info) from what a reset returned: a dm_env TimeStep, (obs, info), or the obs."""
    if hasattr(result, "observation") and hasattr(result, "step_type"):
        return result.observation, {}
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
        return result[0], dict(result[1])
    return result, {}


def _same(value: Any) -> Any:
    return value


def _methods(target: Any) -> str:
    names = [n for n in dir(type(target)) if not n.startswith("_") and callable(getattr(type(target), n, None))]
    return ", ".join(names[:20]) or "none"


__all__ = ["DmEnvAdapter", "PythonClassEnv", "spec_to_space"]
