"""Build AInimals and environments from the config's model / env entries, and say what
each model can do (which run modes, whether it can be checkpointed)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, cast

import gymnasium
from gymnasium.envs.registration import load_env_creator
from gymnasium.spaces import Space

from ainimal_zookeeper.catalog.env_adapters import DmEnvAdapter, PythonClassEnv
from ainimal_zookeeper.catalog.faults import EntryFault
from ainimal_zookeeper.catalog.model_files import FileDescription, build_file_agent, inspect_file, is_model_file
from ainimal_zookeeper.catalog.sources import load_class
from ainimal_zookeeper.catalog.wrappers import PlainClassAInimal, TorchModuleAInimal, plain_methods
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.ainimal import AInimal


@dataclass(frozen=True)
class Capabilities:
    """What a model can do, found by inspecting its class without building it."""

    kind: str
    modes: tuple[str, ...]
    checkpointable: bool
    declared_parameters: tuple[dict[str, Any], ...]
    description: str | None
    #: For a model file: its modalities and architecture (`FileDescription`), read from the file.
    file: FileDescription | None = None


def model_class(model: dict[str, Any]) -> type:
    """The class a model entry names."""
    return load_class(model["path"], model["class_name"])


def capabilities(model: dict[str, Any]) -> Capabilities:
    """Inspect a model entry's class: its kind, run modes, checkpointability, parameters.

    Raises:
        ModelError: the class cannot be loaded or does not fit the entry's type.
    """
    if is_model_file(model):
        described = inspect_file(model)
        return Capabilities(
            model["type"], described.modes, described.checkpointable, (), model.get("description"), described
        )
    cls = model_class(model)
    kind = _kind_of(cls, model.get("type", "ainimal"))
    if kind == "ainimal":
        ainimal = cast(type[AInimal], cls)
        acts, learns = ainimal.supports("forward"), ainimal.supports("train")
        saves = ainimal.supports("save") and ainimal.supports("load")
    elif kind == "torch":
        acts, learns, saves = True, False, True
    else:
        methods = plain_methods(cls, model)
        acts, learns = "act" in methods or "forward" in methods, "train" in methods
        saves = "save" in methods and "load" in methods
    modes = ("INFER",) * acts + ("TRAIN", "BOTH") * (acts and learns) + ("NONE",)
    declared = tuple(getattr(cls, "AINIMAL_PARAMETERS", ()) or ()) if kind == "ainimal" else ()
    doc = inspect.getdoc(cls)
    description = model.get("description") or (doc.splitlines()[0] if doc else None)
    return Capabilities(kind, modes, saves, declared, description)


def build_agent(model: dict[str, Any], init_params: dict[str, Any]) -> AInimal:
    """Construct the AInimal for a model entry with its init parameters."""
    if is_model_file(model):
        return build_file_agent(model, init_params)
    cls = model_class(model)
    kind = _kind_of(cls, model.get("type", "ainimal"))
    target = _construct(cls, init_params, model["name"])
    if kind == "ainimal":
        return target
    if kind == "torch":
        return TorchModuleAInimal(target)
    return PlainClassAInimal(target, plain_methods(cls, model))


def build_env(env: dict[str, Any], init_params: dict[str, Any]) -> gymnasium.Env:
    """Construct the environment for an env entry, as a gymnasium.Env.

    A registered gymnasium env that can render to an array is made with render_mode
    "rgb_array" (unless its init params choose one), so the `frame` stream has pictures;
    rendering then happens only when a frame is asked for.

    Raises:
        ModelError: the env cannot be built.
    """
    kind = env.get("type", "gymnasium")
    try:
        if kind == "gymnasium" and not env.get("path"):
            return gymnasium.make(env["env_name"], **_render_mode(env["env_name"], init_params), **init_params)
        cls = load_class(env["path"], env["class_name"])
        target = _construct(cls, init_params, env["name"])
    except gymnasium.error.Error as exc:
        raise ModelError(f"environment {env['name']!r}: gymnasium could not make it: {exc}") from exc
    if kind == "dm_env":
        return DmEnvAdapter(target)
    if kind == "python_class" and not isinstance(target, gymnasium.Env):
        return PythonClassEnv(target, env.get("step_function") or "step", env.get("reset_function") or "reset")
    if not isinstance(target, gymnasium.Env):
        raise EntryFault(
            f"environment {env['name']!r}: {type(target).__name__} is not a gymnasium.Env",
            "declare type dm_env or python_class for other kinds of environment",
            "type",
        )
    _require_spaces(target, env["name"])
    return target


def _require_spaces(env: gymnasium.Env, name: str) -> None:
    """A gymnasium.Env must say what it observes and takes: the worker seeds and checks by them."""
    missing = [key for key in ("observation_space", "action_space") if not isinstance(getattr(env, key, None), Space)]
    if missing:
        raise EntryFault(
            f"environment {name!r}: {type(env).__name__} has no {' and no '.join(missing)}",
            f"set self.{missing[0]} to a gymnasium space in its __init__ (e.g. gymnasium.spaces.Discrete(2))",
            "class_name",
        )


def _render_mode(env_id: str, init_params: dict[str, Any]) -> dict[str, Any]:
    """{"render_mode": "rgb_array"} if the registered env lists it, found without making it."""
    if "render_mode" in init_params:
        return {}
    try:
        entry_point = gymnasium.spec(env_id).entry_point
        creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
        modes = getattr(creator, "metadata", {}).get("render_modes", ())
    except Exception:  # noqa: BLE001  # unknown or unloadable: gymnasium.make reports it properly
        return {}
    return {"render_mode": "rgb_array"} if "rgb_array" in modes else {}


def _kind_of(cls: type, declared: str) -> str:
    if declared == "torch":
        return "torch"
    if issubclass(cls, AInimal):
        return "ainimal"
    if declared == "ainimal":
        raise ModelError(
            f"{cls.__name__} does not subclass ainimal_zookeeper.AInimal; "
            "subclass it or declare the model with type: python_class"
        )
    return "python_class"


def _construct(cls: type, init_params: dict[str, Any], name: str) -> Any:
    try:
        return cls(**init_params)
    except Exception as exc:
        raise ModelError(
            f"{name!r}: {cls.__name__}(**{sorted(init_params)}) raised {type(exc).__name__}: {exc}"
        ) from exc


__all__ = ["Capabilities", "build_agent", "build_env", "capabilities", "model_class"]
