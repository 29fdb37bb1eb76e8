"""Lightning modules (`LightningModule` subclasses named by path + class_name): act with
`forward`, learn with `training_step` and `configure_optimizers`, without a `Trainer`.

A training step is one call of `training_step(batch, batch_idx)` on the trajectory the worker
hands to `train` (an episode, or a slice of a long one), then backward and a step of each
optimizer (and of each scheduler) that `configure_optimizers` gave, as Lightning's automatic
optimisation does. `batch` is a dict of tensors, first axis the steps in order:

* `observation`, `next_observation`: float32, the env's observations before and after each step;
* `action`: int64 for discrete actions, float32 otherwise;
* `reward`, `return` (the discounted reward-to-go within the trajectory, with the module's
  `gamma` attribute or hyper-parameter, 0.99 when it has none): float32;
* `terminated`, `truncated`, `overridden` (a person chose the action): bool.

`self.log` / `self.log_dict` inside the module add points to the instance's metric history.
Modules with `automatic_optimization = False` call `self.optimizers()`, which needs a Trainer:
they are refused at their first training step, saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files import FileDescription
from ainimal_zookeeper.catalog.model_files.framework_common import LEARNING_MODES, construct, load_user_class, numbers
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.ainimal import AInimal
from ainimal_zookeeper.sdk.timestep import Timestep

FRAMEWORKS = ("lightning", "pytorch_lightning", "lightning_fabric", "torchmetrics")
REQUIRED = ("forward", "training_step", "configure_optimizers")


def module_class(model: dict[str, Any]) -> type:
    """The LightningModule class of the entry, checked for what acting and learning need."""
    import torch

    cls = load_user_class(model, "lightning", FRAMEWORKS)
    missing = [name for name in REQUIRED if not callable(getattr(cls, name, None))]
    if not issubclass(cls, torch.nn.Module) or missing:
        raise ModelError(
            f"model {model['name']!r}: {cls.__name__} is not a Lightning module"
            + (f" (it has no {', '.join(missing)})" if missing else " (not a torch.nn.Module)")
            + "; type lightning takes a LightningModule subclass with forward, training_step and configure_optimizers"
        )
    return cls


def inspect(model: dict[str, Any]) -> FileDescription:
    """The class is checked now; its layers are known once it is built with launch parameters."""
    cls = module_class(model)
    doc = (cls.__doc__ or "").strip().splitlines()
    architecture = {"framework": "lightning", "class": cls.__name__, "doc": doc[0] if doc else None}
    return FileDescription(input_modalities={}, output_modalities={}, architecture=architecture, modes=LEARNING_MODES)


class LightningAInimal(AInimal):
    """A LightningModule as an AInimal; the module is `self.module` (activations `module.<path>`).

    Acting: `forward(observation batch of one)`; for a discrete action space the output is one
    logit per choice: the argmax in INFER, a sample of their softmax in TRAIN / BOTH.
    """

    def __init__(self, module: Any, name: str) -> None:
        super().__init__()
        import torch

        self._torch = torch
        self.module = module.eval()
        self.name = name
        self.discrete_actions: bool | None = None
        self._optimizers: list[Any] | None = None
        self._schedulers: list[Any] = []
        self._batch_idx = 0
        # Lightning's self.log needs a Trainer; here it writes to the metric history instead.
        object.__setattr__(module, "log", self._log_from_module)
        object.__setattr__(module, "log_dict", self._log_dict_from_module)

    # acting

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        torch = self._torch
        obs = torch.as_tensor(np.asarray(inputs["observation"], dtype=np.float32)).unsqueeze(0)
        with torch.no_grad():
            out = self.module(obs)
        out = out[0] if isinstance(out, (tuple, list)) else out
        out = out.squeeze(0)
        if not self.discrete_actions:
            return {"action": out.numpy()}
        if self.mode in ("TRAIN", "BOTH"):
            choice = torch.multinomial(torch.softmax(out.float(), -1), 1)  # torch's RNG: the instance's seed
            return {"action": int(choice.item()), "logits": out.numpy()}
        return {"action": int(torch.argmax(out).item()), "logits": out.numpy()}

    # learning

    def train(self, traj: list[Timestep]) -> Any:
        if not traj:
            return None
        torch = self._torch
        if getattr(self.module, "automatic_optimization", True) is False:
            raise ModelError(
                f"model {self.name!r}: automatic_optimization is False; manual optimisation calls "
                "self.optimizers(), which needs a Lightning Trainer, and is not supported here"
            )
        optimizers = self._ensure_optimizers()
        batch = self._batch(traj)
        self.module.train()
        try:
            for optimizer in optimizers:
                optimizer.zero_grad()
            out = self.module.training_step(batch, self._batch_idx)
            self._batch_idx += 1
            loss = out.get("loss") if isinstance(out, dict) else out
            if loss is None:  # Lightning's way of skipping a batch
                return None
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise ModelError(
                    f"model {self.name!r}: training_step returned {type(out).__name__}; expected a scalar loss "
                    "tensor, a dict with 'loss', or None"
                )
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            for scheduler in self._schedulers:
                scheduler.step()
        finally:
            self.module.eval()
        extra = numbers({k: v for k, v in out.items() if k != "loss"}) if isinstance(out, dict) else {}
        return {"loss": float(loss.detach()), **extra}

    def _batch(self, traj: list[Timestep]) -> dict[str, Any]:
        torch = self._torch
        gamma = float(getattr(self.module, "gamma", None) or _hparam(self.module, "gamma", 0.99))
        rewards = np.array([t.reward for t in traj], dtype=np.float32)
        returns = np.zeros_like(rewards)
        running = 0.0
        for i in range(len(traj) - 1, -1, -1):
            running = rewards[i] + gamma * running * (0.0 if traj[i].terminated else 1.0)
            returns[i] = running
        observations = np.stack([np.asarray(t.observation, dtype=np.float32) for t in traj])
        nexts = np.stack(
            [np.asarray(t.observation if t.next_observation is None else t.next_observation, np.float32) for t in traj]
        )
        actions = np.stack([np.asarray(t.action) for t in traj])
        action = torch.as_tensor(actions.astype(np.int64) if self.discrete_actions else actions.astype(np.float32))
        return {
            "observation": torch.as_tensor(observations),
            "next_observation": torch.as_tensor(nexts),
            "action": action,
            "reward": torch.as_tensor(rewards),
            "return": torch.as_tensor(returns),
            "terminated": torch.as_tensor([t.terminated for t in traj]),
            "truncated": torch.as_tensor([t.truncated for t in traj]),
            "overridden": torch.as_tensor([t.overridden for t in traj]),
        }

    def _ensure_optimizers(self) -> list[Any]:
        if self._optimizers is None:
            self._optimizers, self._schedulers = _unpack_optimizers(self.name, self.module.configure_optimizers())
        return self._optimizers

    def _log_from_module(self, name: str, value: Any, *_args: Any, **_kwargs: Any) -> None:
        self.log_dict(numbers({name: value}))

    def _log_dict_from_module(self, values: dict[str, Any], *_args: Any, **_kwargs: Any) -> None:
        self.log_dict(numbers(values))

    # checkpoints

    def save(self, path: str) -> None:
        from safetensors.torch import save_file

        torch = self._torch
        folder = Path(path)
        save_file({k: v.contiguous() for k, v in self.module.state_dict().items()}, str(folder / "module.safetensors"))
        extra: dict[str, Any] = {"batch_idx": self._batch_idx}
        if self._optimizers:
            extra["optimizers"] = [optimizer.state_dict() for optimizer in self._optimizers]
            extra["schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        hook: dict[str, Any] = {}
        if hasattr(self.module, "on_save_checkpoint"):
            self.module.on_save_checkpoint(hook)
        extra["module"] = hook
        # Plain containers of tensors and numbers: read back with weights_only=True (no code runs).
        torch.save(extra, str(folder / "training.pt"))

    def load(self, path: str) -> None:
        from safetensors.torch import load_file

        torch = self._torch
        folder = Path(path)
        state = load_file(str(folder / "module.safetensors"))
        self.module.load_state_dict(state)
        extra_file = folder / "training.pt"
        if not extra_file.is_file():
            return
        try:
            extra = torch.load(str(extra_file), map_location="cpu", weights_only=True)
        except Exception as exc:  # pickled objects from on_save_checkpoint are refused
            raise ModelError(
                f"model {self.name!r}: the checkpoint's training state holds more than tensors and numbers "
                f"(what on_save_checkpoint added?): {type(exc).__name__}; it is not unpickled"
            ) from exc
        self._batch_idx = int(extra.get("batch_idx", 0))
        if "optimizers" in extra:
            for optimizer, saved in zip(self._ensure_optimizers(), extra["optimizers"], strict=False):
                optimizer.load_state_dict(saved)
            for scheduler, saved in zip(self._schedulers, extra.get("schedulers", []), strict=False):
                scheduler.load_state_dict(saved)
        if hasattr(self.module, "on_load_checkpoint"):
            self.module.on_load_checkpoint({"state_dict": state, **extra.get("module", {})})

    @property
    def state(self) -> dict[str, Any]:
        return {"training_steps": self._batch_idx, "parameters": sum(p.numel() for p in self.module.parameters())}


def _hparam(module: Any, name: str, default: float) -> Any:
    hparams = getattr(module, "hparams", None)
    try:
        return hparams.get(name, default) if hparams is not None else default
    except Exception:  # noqa: BLE001  # an hparams object of another kind
        return default


def _unpack_optimizers(name: str, configured: Any) -> tuple[list[Any], list[Any]]:
    """Optimizers and schedulers from any form `configure_optimizers` may return."""
    import torch

    def scheduler_of(item: Any) -> Any:
        return item.get("scheduler") if isinstance(item, dict) else item

    optimizers: list[Any] = []
    schedulers: list[Any] = []
    items: list[Any]
    if isinstance(configured, tuple) and len(configured) == 2 and all(isinstance(x, list) for x in configured):
        items, schedulers = list(configured[0]), [scheduler_of(s) for s in configured[1]]
    elif isinstance(configured, list | tuple):
        items = list(configured)
    else:
        items = [configured]
    for item in items:
        if isinstance(item, dict):
            optimizers.append(item.get("optimizer"))
            if item.get("lr_scheduler") is not None:
                schedulers.append(scheduler_of(item["lr_scheduler"]))
        else:
            optimizers.append(item)
    if not optimizers or not all(isinstance(o, torch.optim.Optimizer) for o in optimizers):
        raise ModelError(
            f"model {name!r}: configure_optimizers returned {type(configured).__name__}; expected an optimizer, "
            "a list of them, a dict with 'optimizer' (and 'lr_scheduler'), or (optimizers, schedulers)"
        )
    return optimizers, [s for s in schedulers if s is not None]


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> LightningAInimal:
    """The entry's LightningModule built with its init parameters, as an AInimal."""
    cls = module_class(model)
    return LightningAInimal(construct(cls, dict(init_params or {}), model["name"]), model["name"])


__all__ = ["LightningAInimal", "build", "inspect", "module_class"]
