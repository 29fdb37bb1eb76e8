"""Capture and restore what a checkpoint keeps beside the AInimal's own files: the random
number generators and the environment's position, so a branched run continues where it left
off. Everything here is JSON; nothing is pickled."""

from __future__ import annotations

import base64
import random
import sys
from typing import Any

import gymnasium
import numpy as np


def capture_rng() -> dict[str, Any]:
    """The process-wide generators: Python's, numpy's legacy global one and torch's."""
    state = np.random.get_state(legacy=False)
    rng: dict[str, Any] = {
        "python": _listify(random.getstate()),
        "numpy": {**state, "state": {k: _listify(v) for k, v in state["state"].items()}},
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        rng["torch"] = base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode()
    return rng


def restore_rng(rng: dict[str, Any]) -> None:
    """Put back generators captured by `capture_rng`."""
    version, internal, gauss = rng["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = dict(rng["numpy"])
    numpy_state["state"] = {
        k: np.asarray(v, dtype=np.uint32) if k == "key" else v for k, v in numpy_state["state"].items()
    }
    np.random.set_state(numpy_state)
    torch = sys.modules.get("torch")
    if torch is not None and "torch" in rng:
        raw = np.frombuffer(base64.b64decode(rng["torch"]), dtype=np.uint8).copy()
        torch.set_rng_state(torch.from_numpy(raw))


def capture_env(env: gymnasium.Env) -> dict[str, Any]:
    """The env's random generator, step count and, where it exposes one, its state."""
    base: Any = env.unwrapped
    captured: dict[str, Any] = {"np_random": _listify(base.np_random.bit_generator.state)}
    elapsed = _time_limit(env)
    if elapsed is not None:
        captured["elapsed_steps"] = elapsed._elapsed_steps
    get_state = getattr(base, "get_state", None)
    if callable(get_state) and (state := get_state()) is not None:
        captured["state"] = {"via": "get_state", "value": _listify(state)}
    elif isinstance(getattr(base, "state", None), (np.ndarray, list, tuple)):
        # Classic-control envs (CartPole, Pendulum, Acrobot …) keep their physics in `.state`.
        captured["state"] = {"via": "attribute", "value": _listify(base.state)}
        if hasattr(base, "steps_beyond_terminated"):
            captured["steps_beyond_terminated"] = base.steps_beyond_terminated
    return captured


def restore_env(env: gymnasium.Env, captured: dict[str, Any]) -> bool:
    """Put back what `capture_env` took; False when the env's own state could not be restored."""
    base: Any = env.unwrapped
    generator = base.np_random
    generator.bit_generator.state = captured["np_random"]
    time_limit = _time_limit(env)
    if time_limit is not None and "elapsed_steps" in captured:
        time_limit._elapsed_steps = captured["elapsed_steps"]
    state = captured.get("state")
    if state is None:
        return False
    if state["via"] == "get_state":
        base.set_state(state["value"])
    else:
        original = base.state
        base.state = np.asarray(state["value"], dtype=getattr(original, "dtype", np.float64))
        if "steps_beyond_terminated" in captured:
            base.steps_beyond_terminated = captured["steps_beyond_terminated"]
    return True


def _time_limit(env: gymnasium.Env) -> Any:
    current = env
    while isinstance(current, gymnasium.Wrapper):
        if isinstance(current, gymnasium.wrappers.TimeLimit):
            return current
        current = current.env
    return None


def _listify(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value
