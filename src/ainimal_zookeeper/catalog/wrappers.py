"""Wrap what the operator hands over (a plain class, a torch module) as an `AInimal`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.sdk.ainimal import AInimal
from ainimal_zookeeper.sdk.timestep import Timestep

#: The method names a plain class is looked up by, with the config key that renames each.
PLAIN_METHOD_KEYS = {
    "act": ("act_func", "act"),
    "train": ("train_func", "train"),
    "save": ("save_func", "save"),
    "load": ("load_func", "load"),
    "input_modalities": ("input_modalities_func", None),
    "output_modalities": ("output_modalities_func", None),
}


def plain_methods(cls: type, model_config: dict[str, Any]) -> dict[str, str]:
    """Which roles a plain class can fill: role -> method name on the class."""
    found = {}
    for role, (key, default) in PLAIN_METHOD_KEYS.items():
        name = model_config.get(key) or default
        if name and callable(getattr(cls, name, None)):
            found[role] = name
    # A class without its act function may still act through `forward(inputs) -> outputs`.
    if "act" not in found and callable(getattr(cls, "forward", None)):
        found["forward"] = "forward"
    return found


class PlainClassAInimal(AInimal):
    """An object of a class that does not subclass AInimal, driven through its own methods.

    Its act function (`act`, or the config's `act_func`) gets the observation and returns the
    action; failing that, its `forward(inputs) -> outputs` is used as an AInimal's would be.
    `train`, `save` and `load` are used when the class has them; like an AInimal's, `train` may
    return a loss or a dict of name -> number, kept as the instance's metrics (metric history).
    """

    def __init__(self, target: Any, methods: dict[str, str]) -> None:
        super().__init__()
        self.target = target
        self.methods = methods

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        if "act" in self.methods:
            return {"action": getattr(self.target, self.methods["act"])(inputs["observation"])}
        outputs = getattr(self.target, self.methods["forward"])(inputs)
        return outputs if isinstance(outputs, dict) and "action" in outputs else {"action": outputs}

    def train(self, traj: list[Timestep]) -> Any:
        return getattr(self.target, self.methods["train"])(traj)

    def save(self, path: str) -> None:
        getattr(self.target, self.methods["save"])(path)

    def load(self, path: str) -> None:
        getattr(self.target, self.methods["load"])(path)

    @property
    def input_modalities(self) -> dict[str, Any] | None:
        return self._call_optional("input_modalities")

    @property
    def output_modalities(self) -> dict[str, Any] | None:
        return self._call_optional("output_modalities")

    @property
    def state(self) -> dict[str, Any]:
        state = getattr(self.target, "state", None)
        return state if isinstance(state, dict) else {}

    def _call_optional(self, role: str) -> dict[str, Any] | None:
        name = self.methods.get(role)
        if not name:
            return None
        value = getattr(self.target, name)
        return value() if callable(value) else value


class TorchModuleAInimal(AInimal):
    """A torch `nn.Module` policy: observation tensor in, logits (discrete) or action out.

    Inference only: a bare module carries no loss, so the zookeeper cannot train it.
    Weights are saved with safetensors.
    """

    def __init__(self, module: Any) -> None:
        super().__init__()
        import torch

        self._torch = torch
        self.module = module.eval()
        self.discrete_actions: bool | None = None

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        torch = self._torch
        obs = torch.as_tensor(np.asarray(inputs["observation"], dtype=np.float32))
        with torch.no_grad():
            out = self.module(obs.unsqueeze(0)).squeeze(0)
        if self.discrete_actions:
            return {"action": int(torch.argmax(out).item()), "logits": out.numpy()}
        return {"action": out.numpy()}

    def save(self, path: str) -> None:
        from safetensors.torch import save_file

        save_file(
            {k: v.contiguous() for k, v in self.module.state_dict().items()}, str(Path(path) / "module.safetensors")
        )

    def load(self, path: str) -> None:
        from safetensors.torch import load_file

        self.module.load_state_dict(load_file(str(Path(path) / "module.safetensors")))

    @property
    def state(self) -> dict[str, Any]:
        return {"parameters": sum(p.numel() for p in self.module.parameters())}


def describe_torch_module(module: Any, example_input: Any = None) -> dict[str, Any]:
    """The layer tree of a torch module: names, types, parameter counts and output shapes.

    Output shapes come from one forward pass of `example_input` through temporary hooks.
    """
    import torch

    shapes: dict[str, list[int]] = {}
    handles = []
    if example_input is not None:
        for name, sub in module.named_modules():
            handles.append(sub.register_forward_hook(_shape_recorder(shapes, name)))
        try:
            with torch.no_grad():
                module(torch.as_tensor(np.asarray(example_input, dtype=np.float32)).unsqueeze(0))
        except Exception:  # noqa: BLE001  # shapes are a courtesy; the tree stands without them
            shapes.clear()
        finally:
            for handle in handles:
                handle.remove()
    layers = [
        {
            "name": name or "(root)",
            "type": type(sub).__name__,
            "parameters": sum(p.numel() for p in sub.parameters(recurse=False)),
            "shapes": {k: list(v.shape) for k, v in sub.named_parameters(recurse=False)},
            "output_shape": shapes.get(name),
        }
        for name, sub in module.named_modules()
    ]
    total = sum(p.numel() for p in module.parameters())
    return {"framework": "torch", "parameters": total, "layers": layers}


def _shape_recorder(shapes: dict[str, list[int]], name: str) -> Any:
    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        if hasattr(output, "shape"):
            shapes[name] = list(output.shape)

    return hook


def find_torch_modules(agent: Any) -> dict[str, Any]:
    """The torch modules an AInimal holds as attributes (how its architecture is found)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    holder = agent.module if isinstance(agent, TorchModuleAInimal) else agent
    if isinstance(holder, torch.nn.Module):
        return {"module": holder}
    return {k: v for k, v in vars(holder).items() if isinstance(v, torch.nn.Module)}


def json_safe(value: Any, limit: int = 65_536) -> Any:
    """`value` if it encodes as JSON within `limit` bytes, else a note saying why not."""
    from ainimal_zookeeper import wire

    try:
        size = len(wire.dumps({"v": value}))
    except (TypeError, ValueError) as exc:
        return {"unavailable": f"not JSON-encodable: {exc}"}
    return value if size <= limit else {"unavailable": f"{size} bytes, over the {limit} byte limit"}


__all__ = [
    "PlainClassAInimal",
    "TorchModuleAInimal",
    "describe_torch_module",
    "find_torch_modules",
    "json_safe",
    "plain_methods",
]
