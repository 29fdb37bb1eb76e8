"""What the framework agents (Lightning, Stable-Baselines3, tf-agents, Acme) share: their run
modes, loading the operator's class with a missing framework named as its extra, metric names."""

from __future__ import annotations

import re
from typing import Any

from ainimal_zookeeper.errors import ModelError

#: Framework agents act and learn: every run mode.
LEARNING_MODES = ("INFER", "TRAIN", "BOTH", "NONE")

_NOT_NAME = re.compile(r"[^A-Za-z0-9_./-]")


def load_user_class(model: dict[str, Any], extra: str, frameworks: tuple[str, ...]) -> type:
    """The class `path` + `class_name` name; importing a missing framework names its extra.

    Raises:
        ModelError: the file or class is missing, or its framework is not installed.
    """
    from ainimal_zookeeper.catalog.sources import load_class

    try:
        return load_class(model["path"], model["class_name"])
    except ModelError as exc:
        cause = exc.__cause__
        missing = getattr(cause, "name", None) if isinstance(cause, ModuleNotFoundError) else None
        if missing and missing.split(".")[0] in frameworks:
            raise ModelError(
                f"model {model['name']!r} needs the {extra} extra, which is not installed "
                f"(No module named {missing!r}): pip install 'ainimal-zookeeper[{extra}]'"
            ) from exc
        raise


def construct(cls: type, init_params: dict[str, Any], name: str) -> Any:
    """`cls(**init_params)`, a failure said as the model's."""
    try:
        return cls(**init_params)
    except Exception as exc:
        raise ModelError(
            f"{name!r}: {cls.__name__}(**{sorted(init_params)}) raised {type(exc).__name__}: {exc}"
        ) from exc


def metric_name(name: Any) -> str:
    """A framework's metric name made one the metric history accepts (letters, digits, `_./-`)."""
    text = _NOT_NAME.sub("_", str(name))[:64] or "_"
    return text if text[0].isalpha() or text[0] == "_" else f"_{text[:63]}"


def numbers(values: dict[str, Any]) -> dict[str, float]:
    """The entries of `values` that are real numbers (numpy scalars and one-element tensors too)."""
    import numpy as np

    out: dict[str, float] = {}
    for name, value in values.items():
        try:
            array = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
        except Exception:  # noqa: BLE001  # not a number: left out
            continue
        if array.size == 1 and array.dtype.kind in "biuf":
            out[metric_name(name)] = float(array.reshape(()))
    return out


__all__ = ["LEARNING_MODES", "construct", "load_user_class", "metric_name", "numbers"]
