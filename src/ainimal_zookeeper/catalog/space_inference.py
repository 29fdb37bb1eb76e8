"""Spaces for a plain environment class that declares none.

The observation space is read off the class's first observation (numbers, arrays, booleans,
and dicts / tuples of them); each later observation is converted to it (a fresh array of the
same dtype), so the worker, recordings and gymnasium's checker see what the space says. The
action space comes from what the class says it accepts: an `actions` list (or method), or a
number of actions. Bounds cannot be read off one observation, so inferred boxes are unbounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from ainimal_zookeeper.catalog.faults import EntryFault

#: Attributes (or methods) that list the actions a plain env class accepts.
ACTION_LISTS = ("actions", "legal_actions")
#: Attributes (or methods) that give how many actions (0 .. n-1) it accepts.
ACTION_COUNTS = ("num_actions", "n_actions", "action_count")
#: What a class without spaces is told to add.
DECLARE_ACTIONS = (
    "add an `action_space` attribute (a gymnasium space, e.g. gymnasium.spaces.Discrete(3)), "
    "an `actions` list of the actions it accepts, `num_actions`, or an `action_spec()` method"
)
DECLARE_OBSERVATIONS = "add an `observation_space` attribute (a gymnasium space) or an `observation_spec()` method"

Converter = Callable[[Any], Any]


def infer_observation_space(observation: Any, owner: str) -> tuple[spaces.Space, Converter]:
    """A space for `observation` and the function that converts later ones to it.

    Raises:
        EntryFault: the observation is of a kind no space describes (text, None, objects).
    """
    if isinstance(observation, Mapping | tuple) and not observation:
        raise EntryFault(
            f"{owner} declares no observation space and its first observation is empty, so none can be inferred",
            DECLARE_OBSERVATIONS,
        )
    if isinstance(observation, Mapping):
        parts = {key: infer_observation_space(value, owner) for key, value in observation.items()}
        space: spaces.Space = spaces.Dict({key: part[0] for key, part in parts.items()})
        converters = {key: part[1] for key, part in parts.items()}
        return space, lambda obs: {key: convert(obs[key]) for key, convert in converters.items()}
    if isinstance(observation, tuple):
        items = [infer_observation_space(value, owner) for value in observation]
        convert_items = [item[1] for item in items]
        return spaces.Tuple([item[0] for item in items]), lambda obs: tuple(
            convert(value) for convert, value in zip(convert_items, obs, strict=True)
        )
    if isinstance(observation, bool | np.bool_):
        return spaces.Discrete(2), int
    try:
        array = np.asarray(observation)
    except Exception:  # noqa: BLE001  # ragged lists and the like: reported below
        array = np.asarray(None)
    if array.dtype.kind == "b":
        return spaces.MultiBinary(list(array.shape)), _array_converter(np.dtype(np.int8), array.shape, owner)
    if array.dtype.kind in "iu":
        info = np.iinfo(np.int64)
        box = spaces.Box(info.min, info.max, array.shape, np.int64)
        return box, _array_converter(np.dtype(np.int64), array.shape, owner)
    if array.dtype.kind == "f":
        # Python floats and lists become float32 (what models take); arrays keep their dtype.
        floats: np.dtype[Any] = (
            array.dtype if isinstance(observation, np.ndarray | np.generic) else np.dtype(np.float32)
        )
        box = spaces.Box(-np.inf, np.inf, array.shape, floats)
        return box, _array_converter(floats, array.shape, owner)
    raise EntryFault(
        f"{owner} declares no observation space and its first observation ({_describe(observation)}) "
        "is not numbers, booleans, or dicts / tuples of them, so none can be inferred",
        DECLARE_OBSERVATIONS,
    )


def infer_action_space(target: Any, owner: str) -> tuple[spaces.Space, Converter | None]:
    """The action space a plain class says it accepts, and how an index maps to its action.

    The converter is None when the space's values are the class's own actions (0..n-1, or
    any contiguous range of integers); else it maps index i to the i-th listed action.

    Raises:
        EntryFault: the class says nothing about its actions, or lists none.
    """
    for name in ACTION_LISTS:
        listed = _value(target, name)
        if listed is None:
            continue
        actions = list(listed)
        if not actions:
            raise EntryFault(f"{owner}.{name} lists no actions", f"list the actions {owner} accepts in {name}")
        if all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in actions):
            low = int(min(actions))
            if sorted(int(a) for a in actions) == list(range(low, low + len(actions))):
                return spaces.Discrete(len(actions), start=low), None
        return spaces.Discrete(len(actions)), _listed(actions)
    for name in ACTION_COUNTS:
        count = _value(target, name)
        if isinstance(count, int | np.integer) and not isinstance(count, bool) and count > 0:
            return spaces.Discrete(int(count)), None
    raise EntryFault(
        f"{owner} declares no action space, so what actions it takes cannot be known",
        f"on the class, {DECLARE_ACTIONS}",
    )


def _array_converter(dtype: np.dtype[Any], shape: tuple[int, ...], owner: str) -> Converter:
    def convert(observation: Any) -> np.ndarray:
        array = np.array(observation, dtype=dtype)  # a copy: observations never share memory
        if array.shape != shape:
            raise ValueError(
                f"{owner} returned an observation of shape {array.shape}, but its first one had shape {shape}; "
                f"observations of changing shape need a declared space: {DECLARE_OBSERVATIONS}"
            )
        return array

    return convert


def _listed(actions: list[Any]) -> Converter:
    def to_action(index: Any) -> Any:
        return actions[int(index)]

    return to_action


def _value(target: Any, name: str) -> Any:
    value = getattr(target, name, None)
    return value() if callable(value) else value


def _describe(value: Any) -> str:
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 40 else shown[:37] + '...'}"


__all__ = ["DECLARE_ACTIONS", "DECLARE_OBSERVATIONS", "infer_action_space", "infer_observation_space"]
