"""Summaries of a torch AInimal's parameters for the `weights/<param>` streams.

A summary (shape, moments, range, histogram) is a few hundred bytes whatever the tensor's size,
so it can be streamed at display rate; the full values go out only on request and only for
small tensors. Statistics follow numpy's definitions (population std, `np.histogram` bins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.sdk.modalities import to_json
from ainimal_zookeeper.worker.torch_layers import listing, named_layers


def named_parameters(layers_or_agent: Any) -> dict[str, Any]:
    """Parameter name -> torch parameter, named "<layer>.<param>" ("policy.0.weight").

    Args:
        layers_or_agent: layer name -> module (as `named_layers` gives them), or an AInimal.
    """
    layers = layers_or_agent if isinstance(layers_or_agent, Mapping) else named_layers(layers_or_agent)
    found: dict[str, Any] = {}
    seen: set[int] = set()
    for name, module in layers.items():
        for param_name, param in module.named_parameters(recurse=False):
            if id(param) not in seen:  # a shared parameter is listed once, as named_parameters does
                seen.add(id(param))
                found[f"{name}.{param_name}"] = param
    return found


def weight_summaries(
    layers_or_agent: Any,
    names: Iterable[str] | None = None,
    bins: int = 32,
    full_values_limit: int = 4096,
    include_values: bool = False,
) -> dict[str, dict[str, Any]]:
    """Summarise parameters: shape, numel, mean, std, min, max and a histogram.

    Args:
        layers_or_agent: layer name -> module, or an AInimal; non-torch AInimals have none.
        names: the parameters wanted ("policy.0.weight"); None for all.
        bins: histogram bins, spread evenly over [min, max].
        full_values_limit: the most elements whose values are sent in full.
        include_values: add "values" (nested lists) for parameters within the limit.

    Returns:
        Parameter name -> summary. Statistics are floats, None when undefined (an empty
        tensor) or not finite; "nonfinite" counts NaN / inf elements, left out of the rest.

    Raises:
        InvalidInput: a name that is not a parameter of this AInimal.
    """
    params = named_parameters(layers_or_agent)
    if names is not None:
        wanted = list(dict.fromkeys(names))
        if unknown := [name for name in wanted if name not in params]:
            raise InvalidInput(f"unknown parameter {unknown[0]!r}; known parameters: {listing(params)}")
        params = {name: params[name] for name in wanted}
    return {name: _summary(_as_array(param), bins, full_values_limit, include_values) for name, param in params.items()}


def _as_array(param: Any) -> np.ndarray:
    import torch

    # No copy for a float32 CPU parameter: it is only read, before the next optimiser step.
    return param.detach().to(device="cpu", dtype=torch.float32).numpy()


def _summary(arr: np.ndarray, bins: int, full_values_limit: int, include_values: bool) -> dict[str, Any]:
    flat = arr.reshape(-1)
    finite = flat if np.isfinite(flat).all() else flat[np.isfinite(flat)]
    nonfinite = int(flat.size - finite.size)
    summary: dict[str, Any] = {"shape": list(arr.shape), "numel": int(flat.size), "nonfinite": nonfinite}
    if finite.size:
        # numpy scalars, not floats: the edges then come out as np.histogram's own (float32)
        low, high = finite.min(), finite.max()
        counts, edges = np.histogram(finite, bins=bins, range=(low, high))
        summary.update(
            mean=float(finite.mean(dtype=np.float64)),
            std=float(finite.std(dtype=np.float64)),
            min=float(low),
            max=float(high),
            histogram={"counts": counts.tolist(), "edges": edges.tolist()},
        )
    else:
        summary.update(mean=None, std=None, min=None, max=None, histogram={"counts": [], "edges": []})
    if include_values and flat.size <= full_values_limit:
        summary["values"] = to_json(arr)  # NaN / inf become None, which browsers can parse
    return summary


__all__ = ["named_parameters", "weight_summaries"]
