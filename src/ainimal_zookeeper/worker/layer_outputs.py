"""What a torch layer returned: its first tensor, and the activation patches applied to it.

Split from `torch_layers.py` (which registers the hooks) so that each stays a readable size;
torch is imported lazily, as there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ainimal_zookeeper.domain.override_rules import ActivationPatch

log = logging.getLogger(__name__)


def patcher(name: str, operations: list[Callable[[Any], Any]]) -> Callable[..., Any]:
    warned = False

    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        nonlocal warned
        tensor, rebuild = first_tensor(output)
        if tensor is None:
            return None
        shape = list(tensor.shape)
        try:
            for operate in operations:
                tensor = operate(tensor)
        except RuntimeError as exc:  # an output of another shape than the one validated
            if not warned:
                warned = True
                log.warning("activation patch on %r skipped for an output of shape %s: %s", name, shape, exc)
            return None
        return rebuild(tensor)

    return hook


def compile_patch(patch: ActivationPatch) -> Callable[[Any], Any]:
    """The patch as a function of the output tensor; never changes that tensor in place, which
    autograd may still need, and keeps its dtype and device."""
    import torch

    if patch.mode == "clamp":
        low, high = patch.value

        def change(tensor: Any) -> Any:
            return tensor.clamp(min=low, max=high)

    else:
        constant = torch.as_tensor(np.asarray(patch.value, dtype=np.float32))
        operate = _OPERATIONS[patch.mode]

        def change(tensor: Any) -> Any:
            return operate(tensor, constant.to(dtype=tensor.dtype, device=tensor.device))

    if patch.index is None:
        return change
    # A list index as a tensor once: indexing with a Python list converts it at every forward.
    index = torch.tensor(patch.index) if isinstance(patch.index, list) else patch.index

    def on_slice(tensor: Any) -> Any:
        patched = tensor.clone()
        patched[..., index] = change(tensor[..., index])
        return patched

    return on_slice


_OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {
    # set: a full copy, not an expanded view, which a later in-place layer could not write to.
    "set": lambda tensor, value: value.expand_as(tensor).clone(),
    "add": lambda tensor, value: tensor + value,
    "scale": lambda tensor, value: tensor * value,
}


def first_tensor(output: Any) -> tuple[Any, Callable[[Any], Any]]:
    """The tensor a layer returned (the first one of a tuple) and how to put a new one back."""
    import torch

    if isinstance(output, torch.Tensor):
        return output, lambda tensor: tensor
    if isinstance(output, (tuple, list)):
        for i, item in enumerate(output):
            if isinstance(item, torch.Tensor):
                return item, partial(_replaced, output, i)
    return None, lambda tensor: tensor


def _replaced(items: tuple | list, i: int, tensor: Any) -> Any:
    changed = list(items)
    changed[i] = tensor
    if isinstance(items, list):
        return changed
    return type(items)(*changed) if hasattr(items, "_fields") else tuple(changed)
