"""Nests of arrays (dicts, lists, tuples, named tuples) saved as `.npz`, never pickled.

Framework state (an Acme learner's `save()`, a tf-agents policy's variables) is a nest of
arrays; a checkpoint keeps its leaves in an `.npz` read back with `allow_pickle=False` and puts
them into the structure the live object has now.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.errors import ModelError


def flatten(nest: Any) -> list[Any]:
    """The leaves of `nest`, mappings in sorted key order (as dm-tree orders them)."""
    if isinstance(nest, Mapping):
        return [leaf for key in sorted(nest) for leaf in flatten(nest[key])]
    if isinstance(nest, list | tuple):
        return [leaf for item in nest for leaf in flatten(item)]
    return [nest]


def unflatten_as(template: Any, leaves: list[Any]) -> Any:
    """`leaves` put into the structure of `template` (the inverse of `flatten`)."""
    iterator = iter(leaves)
    rebuilt = _rebuild(template, iterator)
    if next(iterator, None) is not None:
        raise ModelError("the checkpoint holds more values than the model has")
    return rebuilt


def _rebuild(template: Any, leaves: Iterator[Any]) -> Any:
    if isinstance(template, Mapping):
        values = {key: _rebuild(template[key], leaves) for key in sorted(template)}
        return {key: values[key] for key in template}
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return type(template)(*(_rebuild(item, leaves) for item in template))
    if isinstance(template, list | tuple):
        return type(template)(_rebuild(item, leaves) for item in template)
    try:
        return next(leaves)
    except StopIteration:
        raise ModelError("the checkpoint holds fewer values than the model has") from None


def save_leaves(path: Path, leaves: list[Any]) -> None:
    """Write numeric leaves to `path` (.npz); anything that is not numbers is refused."""
    arrays = {}
    for i, leaf in enumerate(leaves):
        array = np.asarray(leaf.numpy() if hasattr(leaf, "numpy") else leaf)
        if array.dtype.kind not in "biufc":
            raise ModelError(f"value {i} of the state is {type(leaf).__name__}, not numbers: it cannot be saved")
        arrays[f"leaf{i:05d}"] = array
    with open(path, "wb") as out:
        np.savez(out, **arrays)  # type: ignore[arg-type]


def load_leaves(path: Path) -> list[np.ndarray]:
    """The leaves `save_leaves` wrote, in order (no pickle)."""
    with np.load(path, allow_pickle=False) as stored:
        return [stored[name] for name in sorted(stored.files)]


__all__ = ["flatten", "load_leaves", "save_leaves", "unflatten_as"]
