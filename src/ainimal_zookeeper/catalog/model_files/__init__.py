"""Model files (ONNX, Keras, TFLite, TorchScript, state dicts) and framework agents (Lightning,
Stable-Baselines3, tf-agents, Acme): one loader per format or framework, chosen by type.

Each loader module offers `inspect(model) -> FileDescription` (modalities and architecture read
from the file, without an env) and `build(model) -> AInimal`. Runtimes are optional extras,
imported only when a model of theirs is inspected or built.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.ainimal import AInimal

#: Model type -> (loader module, the extra that brings its runtime, the modules that runtime needs).
FILE_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "onnx": ("onnx_file", "onnx", ("onnxruntime",)),
    "keras": ("keras_file", "keras", ("keras", "h5py")),
    "tflite": ("tflite_file", "litert", ("ai_edge_litert",)),
    # No loader: TensorFlow is a large install and not part of this build (see _NOT_SUPPORTED).
    "tensorflow": ("", "tensorflow", ()),
    "torchscript": ("torch_files", "torch", ("torch",)),
    "torch_export": ("torch_files", "torch", ("torch",)),
    "pytorch": ("torch_files", "torch", ("torch",)),
    # Framework agents: path + class_name (sb3: the .zip + its algorithm); they act and learn.
    "lightning": ("lightning_agent", "lightning", ("torch",)),
    "sb3": ("sb3_agent", "sb3", ("torch", "stable_baselines3")),
    "tf_agents": ("tf_agents_policy", "tf_agents", ()),
    "acme": ("acme_actor", "acme", ("dm_env",)),
}


@dataclass(frozen=True)
class FileDescription:
    """What a model file says about itself: its modalities, architecture and run modes."""

    input_modalities: dict[str, Any]
    output_modalities: dict[str, Any]
    architecture: dict[str, Any]
    checkpointable: bool = True
    modes: tuple[str, ...] = ("INFER", "NONE")


def is_model_file(model: dict[str, Any]) -> bool:
    """Whether a model entry names a model file (rather than a Python class)."""
    return model.get("type") in FILE_TYPES


def inspect_file(model: dict[str, Any]) -> FileDescription:
    """Read a model file's modalities and architecture.

    Raises:
        ModelError: the file is missing, unreadable, or its runtime is not installed.
    """
    return _loader(model).inspect(model)  # type: ignore[no-any-return]


def build_file_agent(model: dict[str, Any], init_params: dict[str, Any]) -> AInimal:
    """The AInimal that runs a model file (init parameters go to a state dict's module class)."""
    return _loader(model).build(model, init_params)  # type: ignore[no-any-return]


#: Formats named in the config that this build cannot run, and what to do instead.
_NOT_SUPPORTED = {
    "tensorflow": (
        "TensorFlow SavedModels need TensorFlow, which this build does not install (no tensorflow extra); "
        "convert the model to ONNX (tf2onnx) or TFLite and use type onnx or tflite"
    ),
}


def _loader(model: dict[str, Any]) -> Any:
    kind = model["type"]
    if kind in _NOT_SUPPORTED:
        raise ModelError(f"model {model['name']!r}: {_NOT_SUPPORTED[kind]}")
    module_name, extra, needs = FILE_TYPES[kind]
    if kind == "keras":
        # Keras picks its backend at its first import: torch, so that no TensorFlow is needed.
        os.environ.setdefault("KERAS_BACKEND", "torch")
    path = Path(model["path"])
    if not path.exists():
        raise ModelError(f"model {model['name']!r}: no such file {path}")
    for needed in needs:
        try:
            importlib.import_module(needed)
        except ImportError as exc:
            raise ModelError(
                f"model {model['name']!r} ({path.suffix or kind}) needs the {extra} extra, which is not installed "
                f"({exc}): pip install 'ainimal-zookeeper[{extra}]'"
            ) from exc
    return importlib.import_module(f"{__name__}.{module_name}")


__all__ = ["FILE_TYPES", "FileDescription", "build_file_agent", "inspect_file", "is_model_file"]
