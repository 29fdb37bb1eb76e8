"""Check, before a launch, that a model file's input and output shapes fit the env's spaces."""

from __future__ import annotations

from typing import Any

from ainimal_zookeeper.catalog.model_files.common import fits, shape_text
from ainimal_zookeeper.errors import InvalidInput


def check_file_fits_env(model_spec: dict[str, Any], env_spec: dict[str, Any]) -> None:
    """Raise InvalidInput naming both shapes when a model file cannot take the env's observations
    or cannot give its actions; models that do not declare shapes pass.
    """
    model_in = ((model_spec.get("inputModalities") or {}).get("observation") or {}).get("shape")
    model_out = ((model_spec.get("outputModalities") or {}).get("action") or {}).get("shape")
    observation = (env_spec.get("observationModalities") or {}).get("observation") or {}
    action = (env_spec.get("actionModalities") or {}).get("action") or {}
    name, env = model_spec["name"], env_spec["name"]
    if model_in is not None and "shape" in observation and not fits(model_in, observation["shape"]):
        raise InvalidInput(
            f"model {name!r} takes inputs of shape {shape_text(model_in)} but environment {env!r} gives "
            f"observations of shape {shape_text(observation['shape'])}; export the model for that shape "
            "or pick an environment that fits"
        )
    if model_out is None:
        return
    # A discrete action is chosen as the argmax of one output per choice.
    wanted = [action["n"]] if action.get("kind") == "discrete" else action.get("shape")
    if wanted is not None and not fits(model_out, list(wanted)):
        what = f"{action['n']} choices (one logit each)" if action.get("kind") == "discrete" else "actions"
        raise InvalidInput(
            f"model {name!r} gives outputs of shape {shape_text(model_out)} but environment {env!r} takes "
            f"{what} of shape {shape_text(list(wanted))}; export the model for that shape "
            "or pick an environment that fits"
        )
