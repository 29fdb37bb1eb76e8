"""Pass an episode's seed to an environment that is not a gymnasium.Env, however it takes one."""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable
from typing import Any

import numpy as np


def accepted_keywords(function: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword arguments `function` takes; None when it takes any (**kwargs)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: pass it nothing
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(p.name for p in parameters if p.kind in named)


def reset_arguments(
    keywords: frozenset[str] | None, target: Any, seed: int | None, options: dict[str, Any] | None
) -> dict[str, Any]:
    """The keyword arguments for `target`'s reset, seeding it on the way.

    An instance's random seed goes where the class takes it: a `seed` argument of its reset, else its own
    `seed(seed)` method (old gym style), else Python's and numpy's global generators (what a
    class without either most likely draws from), so a seeded episode repeats.
    """
    arguments: dict[str, Any] = {}
    if seed is not None:
        if keywords is None or "seed" in keywords:
            arguments["seed"] = seed
        elif callable(getattr(target, "seed", None)):
            target.seed(seed)
        else:
            random.seed(seed)
            np.random.seed(seed % 2**32)
    if options is not None and (keywords is None or "options" in keywords):
        arguments["options"] = options
    return arguments


__all__ = ["accepted_keywords", "reset_arguments"]
