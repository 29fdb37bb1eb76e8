"""Read and patch the layer outputs of a torch AInimal through forward hooks.

Hooks cost a Python call on every forward they sit on, so none stays registered by default:
capture hooks live only inside `ActivationProbe.capture` (one sampled step), patch hooks only
while an activation override is active, and a recording's filling hooks only while it records.
torch is imported lazily; checking a patch is pure and lives in `domain/override_rules.py`
(re-exported here), so the control plane checks patches without torch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.wrappers import find_torch_modules
from ainimal_zookeeper.domain.override_rules import (
    PATCH_MODES,
    ActivationPatch,
    check_clamp,
    check_index,
    check_mode,
    check_numbers,
    listing,
    selected_shape,
    validate_patch,
)
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.layer_outputs import compile_patch, first_tensor, patcher

log = logging.getLogger(__name__)

_ABSENT = object()  # a module whose instance held no `forward` of its own


def layer_name(attribute: str, path: str) -> str:
    """The name of a torch submodule: the AInimal's attribute, then the path below it."""
    return f"{attribute}.{path}" if path else attribute


def named_layers(agent: Any) -> dict[str, Any]:
    """Every torch module of `agent`: "policy" for the root held in `agent.policy`, "policy.0"
    and so on below it; {} when torch is not imported or the agent holds no module."""
    return {
        layer_name(attribute, path): module
        for attribute, root in find_torch_modules(agent).items()
        for path, module in root.named_modules()
    }


class ActivationProbe:
    """Captures layer outputs for one forward, and keeps activation patches in place.

    Args:
        layers: layer name -> torch module, as `named_layers` gives them.
    """

    def __init__(self, layers: Mapping[str, Any]) -> None:
        self.layers = dict(layers)
        self.patches: tuple[ActivationPatch, ...] = ()
        self._patch_handles: list[Any] = []
        self._capture_handles: list[Any] = []
        self._held_handles: list[Any] = []
        # Layer name -> the forward a capture sets on it, and where that writes (`_replacement`).
        self._replacements: dict[str, tuple[list[Any], Callable[..., Any]]] = {}
        self._planned: tuple[tuple[str, ...] | None, list[tuple[str, Any, list[Any], Callable[..., Any]]]] = (None, [])

    @classmethod
    def for_agent(cls, agent: Any) -> ActivationProbe:
        """A probe over every layer of `agent` (no layers for a non-torch agent)."""
        return cls(named_layers(agent))

    @contextmanager
    def capture(self, names: Iterable[str]) -> Iterator[dict[str, np.ndarray]]:
        """Record the outputs of layers `names` during the forward run inside the block.

        A layer nothing else hooks has its `forward` replaced for the block (see
        `_copying_forward`); any other takes a forward hook.

        Yields:
            A dict filled by the forward: name -> float32 copy of the layer's output (the first
            tensor of a tuple output; the last call wins for a layer called twice). Layers
            that did not run, or returned no tensor, are absent.

        Raises:
            InvalidInput: a name is not a layer of this AInimal.
        """
        captured: dict[str, np.ndarray] = {}
        replaced: list[tuple[Any, Any]] = []  # (module, the forward its instance held, or _ABSENT)
        handles: list[Any] = []
        try:
            nothing_global = _no_global_forward_hooks()
            for name, module, sink, copying_forward in self._plan(names):
                held = vars(module).get("forward", _ABSENT)
                # Torch's private table, read defensively: a missing one counts as hooks.
                if nothing_global and not getattr(module, "_forward_hooks", True) and held is not copying_forward:
                    sink[:] = [captured, module.forward]
                    replaced.append((module, held))
                    module.__dict__["forward"] = copying_forward
                else:
                    handles.append(module.register_forward_hook(copying_hook(captured, name)))
            self._capture_handles.extend(handles)
            yield captured
        finally:
            for module, held in reversed(replaced):
                if held is _ABSENT:
                    module.__dict__.pop("forward", None)
                else:
                    module.__dict__["forward"] = held
            for handle in handles:
                handle.remove()  # a no-op if close() came first
            if handles:
                self._capture_handles = [h for h in self._capture_handles if h not in handles]

    def hold(self, hooks: Mapping[str, Callable[..., None]]) -> Callable[[], None]:
        """Keep forward hooks on layers until released: for recordings and replays, which capture
        every step (registering and removing hooks each step costs more than the copies).
        Several holds may be in place at once (a replay while the instance records).

        Args:
            hooks: layer name -> forward hook (see `filling_hook`, `copying_hook`).

        Returns:
            The function that removes these hooks (calling it again does nothing).

        Raises:
            InvalidInput: a name is not a layer of this AInimal.
        """
        chosen = [(self._layer(name), hook) for name, hook in hooks.items()]
        handles = [module.register_forward_hook(hook) for module, hook in chosen]
        self._held_handles.extend(handles)

        def release() -> None:
            for handle in handles:
                handle.remove()  # a no-op if close() came first
            self._held_handles = [h for h in self._held_handles if h not in handles]

        return release

    def set_patches(self, patches: Sequence[ActivationPatch]) -> None:
        """Replace all patch hooks with hooks applying `patches` (in order, per layer).

        An empty list removes every patch hook. Patches are expected validated (see
        `validate_patch`); a patch that does not fit an output at run time (a training batch
        of another shape) leaves that output unchanged and logs one warning.

        Raises:
            InvalidInput: a patch names an unknown layer; the previous patches then stay.
        """
        grouped: dict[str, list[ActivationPatch]] = {}
        for patch in patches:
            self._layer(patch.layer)
            grouped.setdefault(patch.layer, []).append(patch)
        compiled = {name: [compile_patch(patch) for patch in group] for name, group in grouped.items()}
        self._remove(self._patch_handles)
        for name, operations in compiled.items():
            # Prepended so a capture hook on the same layer records the patched output.
            hook = patcher(name, operations)
            self._patch_handles.append(self.layers[name].register_forward_hook(hook, prepend=True))
        self.patches = tuple(patches)

    def close(self) -> None:
        """Remove every hook this probe registered."""
        self._remove(self._patch_handles)
        self._remove(self._capture_handles)
        self._remove(self._held_handles)
        self.patches = ()

    def _plan(self, names: Iterable[str]) -> list[tuple[str, Any, list[Any], Callable[..., Any]]]:
        """Each layer of `names` once: (name, module, its `_replacement`). Remembered for the last
        tuple of names, which sampled steps pass again and again (`TelemetrySampling`)."""
        if names is not self._planned[0]:
            plan = [(name, self._layer(name), *self._replacement(name)) for name in dict.fromkeys(names)]
            self._planned = (names if isinstance(names, tuple) else None, plan)
        return self._planned[1]

    def _replacement(self, name: str) -> tuple[list[Any], Callable[..., Any]]:
        """The forward a capture sets on layer `name`, and the list it reads: [the dict it fills,
        the forward it calls]; made once per layer."""
        if name not in self._replacements:
            sink: list[Any] = [{}, None]
            self._replacements[name] = (sink, _copying_forward(sink, _copier(sink, name)))
        return self._replacements[name]

    def _layer(self, name: str) -> Any:
        module = self.layers.get(name)
        if module is None:
            raise InvalidInput(f"unknown layer {name!r}; known layers: {listing(self.layers)}")
        return module

    @staticmethod
    def _remove(handles: list[Any]) -> None:
        for handle in handles:
            handle.remove()
        handles.clear()


# --- hooks ------------------------------------------------------------------------------------


def copying_hook(captured: dict[str, np.ndarray], name: str) -> Callable[..., None]:
    """A forward hook putting a float32 copy of each output of its layer in `captured[name]`."""
    copy = _copier([captured], name)

    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        copy(output)

    return hook


def _copier(sink: list[Any], name: str) -> Callable[[Any], None]:
    """A function putting a float32 copy of a layer's output (its first tensor) in `sink[0][name]`."""
    import torch

    def copy(output: Any) -> None:
        # A copy: the next layer may work in place (ReLU(inplace=True)) or the buffer be reused.
        try:
            if type(output) is torch.Tensor and output.dtype is torch.float32 and output.is_cpu:
                # The common case, kept cheap (numpy(force=True) detaches in one call, 200 ns less).
                sink[0][name] = output.numpy(force=True).copy()
                return
            copied = _float32_copy(output)  # the careful path: a tuple, another dtype or device
            if copied is not None:
                sink[0][name] = copied
        except Exception as exc:  # noqa: BLE001  # watching must never break the AInimal's forward
            if name not in warned:  # a sparse or quantized output, say: left out, said once
                warned.add(name)
                log.warning("layer %r's output (%s) cannot be captured: %s", name, type(output).__name__, exc)

    warned: set[str] = set()
    return copy


def _copying_forward(sink: list[Any], copy: Callable[[Any], None]) -> Callable[..., Any]:
    """A module's forward (`sink[1]`, the one it had) followed by `copy` of its output: what a
    capture sets as the module's `forward` for one sampled step.

    Why not a forward hook: a module with any hook takes torch's slow call path, and registering
    and removing hooks costs more than the copies. A sampled step runs with cold caches between
    the agent's fast steps: in place, capturing six layers this way costs a sampled step about
    60 µs less than hooks (docs/performance.md). A layer something else hooks (an activation
    patch, a recording, the user, a global hook) still takes a hook, so that it records the
    output those hooks made, as before. It also reaches TorchScript modules called from Python,
    which take no hooks.
    """

    def copying_forward(*args: Any, **kwargs: Any) -> Any:
        output = sink[1](*args, **kwargs)
        copy(output)
        return output

    return copying_forward


def _no_global_forward_hooks() -> bool:
    """Whether no global forward hook runs after every module's forward (torch's private table,
    read defensively: a missing table counts as hooks)."""
    return not getattr(_torch_module_module(), "_global_forward_hooks", True)


@cache
def _torch_module_module() -> Any:
    """`torch.nn.modules.module`, imported once (an import statement costs a sampled step)."""
    from torch.nn.modules import module as torch_module

    return torch_module


def filling_hook(block: Any, page: Sized) -> Callable[..., None]:
    """A forward hook writing each output into `block` (a `LayerBlock`) at page row
    `len(page)`, the row of the step being taken (the page grows by one after each step).

    The common case (a float CPU tensor of the page's shape) is one assignment, with no
    checks: it runs on every layer of every recorded step. Anything else (the first output,
    a tuple, another dtype or device, another shape) takes `LayerBlock.put`, which
    allocates the page or leaves the output out.
    """

    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        try:
            # numpy(force=True) detaches (and leaves the GPU) itself, 200 ns faster than detach().numpy()
            block.page[len(page)] = output.numpy(force=True)
        except Exception:  # noqa: BLE001  # the careful path: see above
            try:
                block.put(len(page), _float32_copy(output))
            except Exception as exc:  # noqa: BLE001  # a recording must never break the AInimal's forward
                log.warning("layer output of type %s not recorded: %s", type(output).__name__, exc)

    return hook


def _float32_copy(output: Any) -> np.ndarray | None:
    """The output's (first) tensor as a float32 numpy copy, None when it holds no tensor."""
    import torch

    tensor, _ = first_tensor(output)
    if tensor is None:
        return None
    return tensor.detach().to(device="cpu", dtype=torch.float32, copy=True).numpy()


__all__ = [
    "PATCH_MODES",
    "ActivationPatch",
    "ActivationProbe",
    "check_clamp",
    "check_index",
    "check_mode",
    "check_numbers",
    "copying_hook",
    "filling_hook",
    "layer_name",
    "listing",
    "named_layers",
    "selected_shape",
    "validate_patch",
]
