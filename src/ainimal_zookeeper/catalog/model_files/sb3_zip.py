"""Reading a Stable-Baselines3 `.zip` without unpickling anything, and building its algorithm.

An SB3 zip holds `data` (JSON, in which objects that are not JSON are cloudpickled) and `*.pth`
state dicts. The state dicts are read with `torch.load(weights_only=True)`; of `data`, the plain
JSON is used as it is and each pickled entry is rebuilt from what SB3 writes readably beside it
(a space's shape, dtype and bounds; the policy class, matched by name against the algorithm's
own policies; `policy_kwargs` whose classes are torch's activations or optimizers), or reset to
the algorithm's default (noted in the architecture's `reset_to_default`, and settable through the
model's `init_params`). A file whose policy class is not one of the algorithm's own is refused,
saying why. The agent that runs it is `sb3_agent.py`.
"""

from __future__ import annotations

import inspect as pyinspect
import io
import json
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files import FileDescription
from ainimal_zookeeper.catalog.model_files.common import MAX_LISTED_NODES
from ainimal_zookeeper.catalog.model_files.framework_common import LEARNING_MODES
from ainimal_zookeeper.errors import ModelError

#: The algorithms of stable_baselines3 this loader builds (class_name).
ALGORITHMS = ("A2C", "DDPG", "DQN", "PPO", "SAC", "TD3")
#: Bounds on what is read from a zip before any work (a zip bomb stops here).
MAX_DATA_BYTES = 16 * 2**20
MAX_ZIP_BYTES = 2 * 2**30
#: Entries SB3 rebuilds itself (`_setup_model`) or that only describe a run in progress.
_RUNTIME_ONLY = frozenset(
    {
        "_last_obs",
        "_last_original_obs",
        "_last_episode_starts",
        "ep_info_buffer",
        "ep_success_buffer",
        "lr_schedule",
        "exploration_schedule",
        "_logger",
        "_custom_logger",
        "_vec_normalize_env",
        "policy",
        "env",
        "device",
    }
)
_CLASS_TEXT = re.compile(r"<class '([A-Za-z0-9_.]+)'>")
_VAL_TEXT = re.compile(r"val=([-+0-9.eE]+|inf|-inf)")
#: Module prefixes whose classes a policy_kwargs entry may name (no arbitrary class is imported).
_ALLOWED_CLASS_MODULES = ("torch.nn.modules.", "torch.optim.", "stable_baselines3.common.torch_layers")


def _sb3() -> Any:
    import stable_baselines3

    return stable_baselines3


def algorithm_class(model: dict[str, Any]) -> type:
    """The stable_baselines3 algorithm class_name names (PPO, DQN, ...)."""
    name = str(model["class_name"]).rsplit(".", 1)[-1]
    if name not in ALGORITHMS:
        raise ModelError(
            f"model {model['name']!r}: class_name {model['class_name']!r} is not a Stable-Baselines3 algorithm "
            f"this build runs; expected one of {', '.join(ALGORITHMS)}"
        )
    return getattr(_sb3(), name)  # type: ignore[no-any-return]


# reading the zip


class ZipContents:
    """The parts of an SB3 zip: `data` (JSON, pickled entries not decoded), state dicts, variables."""

    def __init__(self, data: dict[str, Any], params: dict[str, Any], variables: dict[str, Any], version: str) -> None:
        self.data, self.params, self.variables, self.version = data, params, variables, version


def read_zip(name: str, path: str | Path) -> ZipContents:
    """Read an SB3 zip without unpickling anything.

    Raises:
        ModelError: not an SB3 zip, too large, or a part that needs unpickling.
    """
    import torch

    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"model {name!r}: {path} is not a Stable-Baselines3 zip ({exc})") from exc
    with archive:
        infos = {info.filename: info for info in archive.infolist()}
        if "data" not in infos:
            raise ModelError(f"model {name!r}: {path} has no `data` entry: not saved by a Stable-Baselines3 algorithm")
        total = sum(info.file_size for info in infos.values())
        if infos["data"].file_size > MAX_DATA_BYTES or total > MAX_ZIP_BYTES:
            raise ModelError(
                f"model {name!r}: {path} unpacks to {total} bytes (data {infos['data'].file_size}); "
                f"the limits are {MAX_ZIP_BYTES} and {MAX_DATA_BYTES} for data"
            )
        try:
            data = json.loads(archive.read("data"))
        except ValueError as exc:
            raise ModelError(f"model {name!r}: the `data` entry of {path} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ModelError(f"model {name!r}: the `data` entry of {path} is not a JSON object")
        params: dict[str, Any] = {}
        variables: dict[str, Any] = {}
        for entry in infos:
            if not entry.endswith(".pth"):
                continue
            try:
                loaded = torch.load(io.BytesIO(archive.read(entry)), map_location="cpu", weights_only=True)
            except pickle.UnpicklingError as exc:
                raise ModelError(
                    f"model {name!r}: {entry} in {path} holds pickled Python objects, not tensors; it is refused "
                    "because unpickling it could run any code the file names"
                ) from exc
            except Exception as exc:  # a truncated or foreign part
                raise ModelError(f"model {name!r}: cannot read {entry} in {path}: {type(exc).__name__}") from exc
            if entry == "pytorch_variables.pth":
                variables = dict(loaded or {})
            else:
                params[entry.removesuffix(".pth")] = loaded
        version = (
            archive.read("_stable_baselines3_version").decode(errors="replace").strip()[:40]
            if ("_stable_baselines3_version" in infos)
            else ""
        )
    if "policy" not in params:
        raise ModelError(f"model {name!r}: {path} has no policy.pth: not saved by a Stable-Baselines3 algorithm")
    return ZipContents(data, params, variables, version)


def is_pickled(item: Any) -> bool:
    """Whether a `data` entry is one SB3 cloudpickled (a dict with ':serialized:')."""
    return isinstance(item, dict) and ":serialized:" in item


def read_space(item: Any, what: str) -> Any:
    """A gymnasium space rebuilt from the readable fields SB3 writes beside the pickled one."""
    from gymnasium import spaces

    if not isinstance(item, dict):
        raise ModelError(f"the {what} is not described in the file")
    kind = str(item.get(":type:", "")).rsplit(".", 1)[-1].rstrip("'>")
    try:
        if kind == "Box":
            shape = tuple(int(d) for d in item["_shape"])
            dtype = np.dtype(str(item.get("dtype", "float32")))
            low = _numbers(str(item.get("low_repr") or item.get("low")), shape)
            high = _numbers(str(item.get("high_repr") or item.get("high")), shape)
            return spaces.Box(low.astype(dtype), high.astype(dtype), shape, dtype)
        if kind == "Discrete":
            return spaces.Discrete(int(str(item["n"])), start=int(str(item.get("start", 0))))
        if kind == "MultiDiscrete":
            nvec = _numbers(str(item["nvec"]), None).astype(np.int64)
            return spaces.MultiDiscrete(nvec)
        if kind == "MultiBinary":
            n = item["n"]
            return spaces.MultiBinary(n if isinstance(n, int | list) else int(str(n)))
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"the {what} ({kind}) cannot be read from the file: {exc}") from exc
    raise ModelError(
        f"the {what} is a {kind or 'space'} the file stores only as a pickled object (Box, Discrete, "
        "MultiDiscrete and MultiBinary spaces are read); it is not unpickled"
    )


def _numbers(text: str, shape: tuple[int, ...] | None) -> np.ndarray:
    """Numbers printed by numpy (`str(array)`), as an array of `shape`."""
    cleaned = text.replace("[", " ").replace("]", " ").replace(",", " ")
    abbreviated = "..." in cleaned  # numpy prints large arrays' first and last values only
    values = np.array([float(x) for x in cleaned.replace("...", " ").split()])
    if abbreviated and (shape is None or values.size == 0 or not np.all(values == values[0])):
        raise ValueError("the bounds of this large space are abbreviated in the file and not all equal")
    if shape is None:
        return values
    if values.size == 1 or abbreviated:  # uniform bounds (an image's 0 and 255)
        return np.full(shape, values[0])
    return values.reshape(shape)


# building the algorithm


class SafeData:
    """`data` with every pickled entry rebuilt or reset, and what was reset."""

    def __init__(self, values: dict[str, Any], policy_class: type, reset: list[str]) -> None:
        self.values, self.policy_class, self.reset = values, policy_class, reset


def safe_data(name: str, cls: Any, contents: ZipContents, overrides: dict[str, Any]) -> SafeData:
    """Rebuild `data` without unpickling: readable fields, the algorithm's defaults, or `overrides`."""
    defaults = {
        key: p.default
        for key, p in pyinspect.signature(cls.__init__).parameters.items()
        if p.default is not pyinspect.Parameter.empty
    }
    values: dict[str, Any] = {}
    reset: list[str] = []
    for key, item in contents.data.items():
        if key in overrides or key in _RUNTIME_ONLY or key == "policy_class":
            continue
        if not is_pickled(item):
            values[key] = item
        elif key in ("observation_space", "action_space"):
            try:
                values[key] = read_space(item, key.replace("_", " "))
            except ModelError as exc:
                raise ModelError(f"model {name!r}: {exc}") from None
        elif key == "policy_kwargs":
            values[key] = _policy_kwargs(name, item)
        elif (number := _readable_number(item)) is not None:
            values[key] = number
        elif key == "learning_rate":
            values[key] = _optimizer_lr(contents) or defaults.get(key, 3e-4)
            reset.append(key)
        elif key in defaults:
            values[key] = defaults[key]
            reset.append(key)
        # else: run state SB3 keeps for a learn() in progress; not needed to act or learn anew
    values.update({k: v for k, v in overrides.items() if k != "policy"})
    values["n_envs"] = 1  # the worker steps one env
    if isinstance(values.get("policy_kwargs"), dict):
        values["policy_kwargs"] = {k: v for k, v in values["policy_kwargs"].items() if k != "device"}
    policy = _policy_class(name, cls, contents.data.get("policy_class"), overrides.get("policy"), values)
    return SafeData(values, policy, reset)


def _readable_number(item: dict[str, Any]) -> float | None:
    """A constant schedule's value, from what SB3 writes readably beside it."""
    if isinstance(item.get("val"), int | float):
        return float(item["val"])
    for key, text in item.items():
        if key != ":serialized:" and isinstance(text, str) and (match := _VAL_TEXT.search(text)):
            return float(match.group(1))
    return None


def _optimizer_lr(contents: ZipContents) -> float | None:
    for key, state in contents.params.items():
        if key.endswith("optimizer") and isinstance(state, dict):
            groups = state.get("param_groups") or []
            if groups and isinstance(groups[0].get("lr"), int | float):
                return float(groups[0]["lr"])
    return None


def _policy_kwargs(name: str, item: dict[str, Any]) -> dict[str, Any]:
    """policy_kwargs with class entries (activation_fn, optimizer_class ...) named by torch / SB3."""
    import importlib

    kwargs: dict[str, Any] = {}
    for key, value in item.items():
        if key.startswith(":"):
            continue
        match = _CLASS_TEXT.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            kwargs[key] = value
            continue
        module_name, _, class_name = match.group(1).rpartition(".")
        if not module_name.startswith(_ALLOWED_CLASS_MODULES):
            raise ModelError(
                f"model {name!r}: policy_kwargs.{key} names {match.group(1)}, which the file stores only pickled; "
                "classes from torch.nn, torch.optim and stable_baselines3.common.torch_layers are read, others are "
                "refused (give it in the model's init_params.policy_kwargs instead)"
            )
        kwargs[key] = getattr(importlib.import_module(module_name), class_name)
    return kwargs


def _policy_class(name: str, cls: Any, item: Any, chosen: str | None, values: dict[str, Any]) -> type:
    """The algorithm's own policy class the file names (matched by name, never unpickled)."""
    aliases: dict[str, type] = dict(cls.policy_aliases)
    if chosen is not None:
        if chosen not in aliases:
            raise ModelError(f"model {name!r}: policy {chosen!r} is not one of {', '.join(aliases)}")
        return aliases[chosen]
    if isinstance(item, str) and item in aliases:
        return aliases[item]
    text = json.dumps(item) if isinstance(item, dict) else ""
    for klass in aliases.values():
        if f"<function {klass.__qualname__}.__init__ " in text or f"'{klass.__module__}.{klass.__qualname__}'" in text:
            return klass
    raise ModelError(
        f"model {name!r}: its policy class is not one of {cls.__name__}'s own ({', '.join(aliases)}); a custom "
        "policy class would have to be unpickled from the file, which is refused. Name one in init_params.policy "
        "if the weights fit it"
    )


def build_algorithm(model: dict[str, Any], path: str, overrides: dict[str, Any]) -> tuple[Any, SafeData, ZipContents]:
    """The algorithm the zip at `path` holds, built on the CPU without unpickling."""
    cls = algorithm_class(model)
    contents = read_zip(model["name"], path)
    safe = safe_data(model["name"], cls, contents, overrides)
    try:
        algo = cls(policy=safe.policy_class, env=None, device="cpu", _init_setup_model=False)
        algo.__dict__.update(safe.values)
        algo._setup_model()
    except ModelError:
        raise
    except Exception as exc:  # SB3 raises many kinds on inconsistent settings
        raise ModelError(f"model {model['name']!r}: {cls.__name__} cannot be set up from {path}: {exc}") from exc
    load_parameters(model["name"], algo, contents)
    if getattr(algo, "use_sde", False):
        algo.policy.reset_noise()  # as SB3's load does
    _quiet_logger(algo)
    return algo, safe, contents


def load_parameters(name: str, algo: Any, contents: ZipContents) -> None:
    """Put the zip's state dicts and torch variables into `algo` (the same objects stay)."""

    try:
        algo.set_parameters(contents.params, exact_match=True, device="cpu")
    except Exception as exc:  # missing / unexpected keys, shape mismatches
        raise ModelError(f"model {name!r}: the weights do not fit the algorithm: {exc}") from exc
    for key, value in contents.variables.items():
        if value is None:
            continue
        target = algo
        *parents, last = key.split(".")
        for part in parents:
            target = getattr(target, part)
        getattr(target, last).data = value.data


def _quiet_logger(algo: Any) -> None:
    from stable_baselines3.common.logger import Logger

    algo.set_logger(Logger(folder=None, output_formats=[]))


def describe(model: dict[str, Any], algo: Any, safe: SafeData, contents: ZipContents) -> dict[str, Any]:
    state = contents.params["policy"]
    settings = {
        k: v
        for k, v in safe.values.items()
        if not k.startswith("_") and isinstance(v, int | float | str | bool) and k not in ("n_envs", "verbose")
    }
    return {
        "framework": "stable-baselines3",
        "version": contents.version,
        "algorithm": type(algo).__name__,
        "policy": safe.policy_class.__name__,
        "file": Path(model["path"]).name,
        "parameters": int(sum(int(np.prod(t.shape)) for t in state.values())),
        "settings": settings,
        "reset_to_default": safe.reset,
        "nodes": [{"name": k, "shape": list(t.shape)} for k, t in list(state.items())[:MAX_LISTED_NODES]],
    }


def inspect(model: dict[str, Any]) -> FileDescription:
    """The algorithm's spaces, policy and settings, read (and built once) from the zip."""
    from ainimal_zookeeper.sdk.modalities import modality_from_space

    # Launch templates ("${params.x}") are filled at launch; the fixed settings apply already.
    fixed = {k: v for k, v in (model.get("init_params") or {}).items() if "${" not in str(v)}
    fixed.pop("total_timesteps", None)
    algo, safe, contents = build_algorithm(model, model["path"], fixed)
    return FileDescription(
        input_modalities={"observation": modality_from_space(algo.observation_space)},
        output_modalities={"action": modality_from_space(algo.action_space)},
        architecture=describe(model, algo, safe, contents),
        modes=LEARNING_MODES,
    )


# the AInimal
