"""Describe a built AInimal: its modalities and, for torch models, its layer tree."""

from __future__ import annotations

import logging
from typing import Any

from ainimal_zookeeper.catalog.wrappers import describe_torch_module, find_torch_modules, json_safe
from ainimal_zookeeper.worker.torch_layers import layer_name

log = logging.getLogger(__name__)


def describe_agent(agent: Any, env: Any, observation: Any) -> dict[str, Any]:
    """The instance's `architecture`: modalities, plus layers and parameter counts if known.

    Layers are named as `named_layers` names them ("policy", "policy.0" ...), the names
    activation streams and overrides take.
    """
    from ainimal_zookeeper.sdk.modalities import modality_from_space

    described: dict[str, Any] = {"framework": None, "parameters": None, "layers": []}
    try:
        inputs = agent.input_modalities
        outputs = agent.output_modalities
    except Exception as exc:  # noqa: BLE001  # a broken property leaves the env's modalities
        log.warning("modalities unavailable: %s", exc)
        inputs = outputs = None
    if env is not None:
        inputs = inputs or {"observation": modality_from_space(env.observation_space)}
        outputs = outputs or {"action": modality_from_space(env.action_space)}
    described["inputModalities"], described["outputModalities"] = json_safe(inputs), json_safe(outputs)
    modules = find_torch_modules(agent)
    if modules:
        trees = {name: describe_torch_module(module, observation) for name, module in modules.items()}
        described["framework"] = "torch"
        described["parameters"] = sum(tree["parameters"] for tree in trees.values())
        described["layers"] = [
            {**layer, "name": layer_name(attribute, path)}
            for attribute, tree in trees.items()
            # describe_torch_module lists the layers in named_modules() order
            for (path, _), layer in zip(modules[attribute].named_modules(), tree["layers"], strict=True)
        ]
    elif isinstance(declared := getattr(agent, "architecture", None), dict):
        described.update(json_safe(declared))
    return described
