"""PyTorch model files: TorchScript (`torch.jit.save`), `torch.export` programs (`.pt2`), and
state dicts loaded into a named module class.

Nothing here unpickles arbitrary objects: TorchScript and `.pt2` files have their own formats,
and a state dict is read with `torch.load(weights_only=True)`, which accepts tensors and plain
containers only. A file holding a whole pickled module is refused, saying why: loading it would
run whatever code the file names.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files import FileDescription
from ainimal_zookeeper.catalog.model_files.common import MAX_LISTED_NODES, FileModelAInimal
from ainimal_zookeeper.errors import ModelError


def _torch() -> Any:
    import torch

    return torch


def _load_program(model: dict[str, Any], path: str) -> Any:
    """The TorchScript module or the exported program's module in the file at `path`."""
    torch = _torch()
    try:
        if model["type"] == "torchscript":
            return torch.jit.load(path, map_location="cpu").eval()
        return torch.export.load(path).module()
    except Exception as exc:  # torch raises RuntimeError and others for bad files
        what = "a TorchScript file (torch.jit.save)" if model["type"] == "torchscript" else "a torch.export file (.pt2)"
        raise ModelError(
            f"model {model['name']!r}: {path} is not {what}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from exc


def _layers(module: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": name or "(root)",
            "type": getattr(sub, "original_name", type(sub).__name__),
            "parameters": int(sum(p.numel() for p in sub.parameters(recurse=False))),
        }
        for name, sub in list(module.named_modules())[:MAX_LISTED_NODES]
    ]


def _describe(model: dict[str, Any], module: Any) -> dict[str, Any]:
    return {
        "framework": "torchscript" if model["type"] == "torchscript" else "torch.export",
        "file": Path(model["path"]).name,
        "parameters": int(sum(p.numel() for p in module.parameters())),
        "nodes": _layers(module),
    }


def inspect(model: dict[str, Any]) -> FileDescription:
    """A state-dict model is inspected as its class is; program files by loading them."""
    if model["type"] == "pytorch":
        from ainimal_zookeeper.catalog.sources import load_class

        load_class(model["path"], model["class_name"])  # a typo in path or class_name shows now
        # The weights are read (a pickled module is refused here, at start); the module itself is
        # built at launch, when its launch parameters are known.
        return FileDescription(
            input_modalities={}, output_modalities={}, architecture=_describe_state_dict(model, read_state_dict(model))
        )
    module = _load_program(model, model["path"])
    # Shapes are not declared by these formats: the env's spaces stand (checked at the first step).
    return FileDescription(input_modalities={}, output_modalities={}, architecture=_describe(model, module))


def _describe_state_dict(model: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    return {
        "framework": "torch",
        "file": Path(model["weights"]).name,
        "class": model["class_name"],
        "parameters": int(sum(t.numel() for t in state.values())),
        "nodes": [{"name": k, "shape": list(t.shape)} for k, t in list(state.items())[:MAX_LISTED_NODES]],
    }


def read_state_dict(model: dict[str, Any]) -> dict[str, Any]:
    """The tensors of a state-dict file, read without running any code from it."""
    torch = _torch()
    path = model["weights"]
    if not Path(path).is_file():
        raise ModelError(f"model {model['name']!r}: no such weights file {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelError(
            f"model {model['name']!r}: {path} holds pickled Python objects (a whole saved module?), not a "
            "state dict of tensors; it is refused because unpickling it could run any code the file names. "
            "Save `module.state_dict()` with torch.save, or export the module with torch.jit.save or torch.export"
        ) from exc
    except Exception as exc:  # a truncated or foreign file
        raise ModelError(f"model {model['name']!r}: cannot read {path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"model {model['name']!r}: {path} is not a state dict (name -> tensor)")
    return state


def build_state_dict_module(model: dict[str, Any], init_params: dict[str, Any]) -> Any:
    """The entry's module class, built with its init parameters, its weights loaded from the file."""
    from ainimal_zookeeper.catalog.sources import load_class

    torch = _torch()
    cls = load_class(model["path"], model["class_name"])
    try:
        module = cls(**init_params)
    except Exception as exc:
        raise ModelError(f"{model['name']!r}: {cls.__name__}(**{sorted(init_params)}) raised {exc}") from exc
    if not isinstance(module, torch.nn.Module):
        raise ModelError(f"model {model['name']!r}: {cls.__name__} is not a torch.nn.Module")
    try:
        module.load_state_dict(read_state_dict(model))
    except RuntimeError as exc:  # missing / unexpected keys, shape mismatches: torch names them
        raise ModelError(f"model {model['name']!r}: the weights do not fit {cls.__name__}: {exc}") from exc
    return module


class ProgramAInimal(FileModelAInimal):
    """A TorchScript or torch.export policy: observation tensor in, first output out.

    The module is kept in a tuple, not as an attribute: a scripted module takes no forward hooks,
    so it must not be offered to the activation probe; its outputs are in `state`.
    """

    suffix = ".pt"

    def __init__(self, model: dict[str, Any]) -> None:
        self._config = model
        self.suffix = ".pt" if model["type"] == "torchscript" else ".pt2"
        super().__init__(model["name"], model["path"], [])
        self.input_shape = None  # type: ignore[assignment]  # the file declares no input shape
        self._reload(model["path"])

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = self._run(np.asarray(inputs["observation"])[None, ...])
        self._last = outputs
        first = np.asarray(next(iter(outputs.values())))[0]
        if self.discrete_actions:
            return {"action": int(np.argmax(first)), "logits": first}
        return {"action": first}

    def _run(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        torch = _torch()
        with torch.no_grad():
            out = self._program[0](torch.as_tensor(observation, dtype=torch.float32))
        outs = out if isinstance(out, (list, tuple)) else [out]
        return {f"output{i}" if i else "output": o.detach().numpy() for i, o in enumerate(outs)}

    def _reload(self, path: str) -> None:
        self._program = (_load_program(self._config, path),)
        self.path = path

    @property
    def architecture(self) -> dict[str, Any]:
        """The module tree and parameter count read from the file."""
        return _describe(self._config, self._program[0])


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> Any:
    """An AInimal for a PyTorch model file entry."""
    if model["type"] == "pytorch":
        from ainimal_zookeeper.catalog.wrappers import TorchModuleAInimal

        return TorchModuleAInimal(build_state_dict_module(model, init_params or {}))
    return ProgramAInimal(model)
