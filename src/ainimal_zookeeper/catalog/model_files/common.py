"""What every model-file AInimal shares: array I/O, discrete or continuous actions, file checkpoints."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.ainimal import AInimal

#: Layers / nodes listed in an architecture; a large graph is summarised past this.
MAX_LISTED_NODES = 500


def tensor_modality(shape: list[int | None], dtype: str) -> dict[str, Any]:
    """A box modality for one tensor of a model file, without its batch axis when it has one."""
    dims = [d if isinstance(d, int) and d >= 0 else None for d in shape]
    return {"kind": "box", "shape": dims, "dtype": dtype, "low": None, "high": None}


def drop_batch_axis(shape: list[int | None]) -> list[int | None]:
    """A tensor shape without its leading batch axis (dynamic, or 1), when it has more than one axis."""
    if len(shape) > 1 and (shape[0] is None or shape[0] == 1):
        return shape[1:]
    return shape


def fits(model_shape: list[int | None], env_shape: list[int]) -> bool:
    """Whether an env's value shape fits a model input (None matches any size)."""
    return len(model_shape) == len(env_shape) and all(
        m is None or m == e for m, e in zip(model_shape, env_shape, strict=True)
    )


class FileModelAInimal(AInimal):
    """A policy read from a file: observation in (batched by one), first output out.

    With a discrete env action space the output is taken as logits and the action is its
    argmax; otherwise the output is the action. Subclasses implement `_run` and `_reload`.
    """

    #: The file's own suffix, used for the copy a checkpoint keeps.
    suffix = ""

    def __init__(self, name: str, path: str, input_shape: list[int | None]) -> None:
        super().__init__()
        self.name, self.path, self.input_shape = name, path, input_shape
        self.discrete_actions: bool | None = None
        self._last: dict[str, Any] = {}

    def _run(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        """All outputs (first = the policy's) for a batch of one observation."""
        raise NotImplementedError

    def _reload(self, path: str) -> None:
        """Load the model again from `path` (a checkpoint's copy of the file)."""
        raise NotImplementedError

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        obs = np.asarray(inputs["observation"])
        if not fits(self.input_shape, list(obs.shape)):
            raise ModelError(
                f"model {self.name!r} takes inputs of shape {shape_text(self.input_shape)}, "
                f"the env gives observations of shape {shape_text(list(obs.shape))}"
            )
        outputs = self._run(obs[None, ...])
        self._last = outputs
        first = np.asarray(next(iter(outputs.values())))[0]
        if self.discrete_actions:
            return {"action": int(np.argmax(first)), "logits": first}
        return {"action": first}

    def save(self, path: str) -> None:
        # The file is the whole model (read-only weights): a checkpoint keeps a copy of it.
        shutil.copyfile(self.path, Path(path) / f"model{self.suffix}")

    def load(self, path: str) -> None:
        self._reload(str(Path(path) / f"model{self.suffix}"))

    @property
    def state(self) -> dict[str, Any]:
        """The last outputs (and intermediate values, where the runtime exposes them), small ones whole."""
        return {name: summary(value) for name, value in self._last.items()}


def summary(value: Any) -> Any:
    arr = np.asarray(value)
    if arr.size <= 256:
        return arr.tolist()
    return {"shape": list(arr.shape), "mean": float(arr.mean()), "min": float(arr.min()), "max": float(arr.max())}


def shape_text(shape: list[int | None]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


__all__ = ["MAX_LISTED_NODES", "FileModelAInimal", "drop_batch_axis", "fits", "shape_text", "tensor_modality"]
