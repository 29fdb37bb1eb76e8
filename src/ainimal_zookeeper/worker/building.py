"""Building an instance from its spec: the AInimal, its env, and the instruments that watch and steer it."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.factory import build_agent, build_env
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.interventions import Interventions
from ainimal_zookeeper.worker.introspection import describe_agent
from ainimal_zookeeper.worker.telemetry import TelemetryCapture
from ainimal_zookeeper.worker.torch_layers import ActivationProbe, named_layers


@dataclass
class Instruments:
    """What watches and steers a built AInimal."""

    description: dict[str, Any]  # its architecture, as WorkerStarted announces it
    probe: ActivationProbe | None  # reads and patches torch layers (None: no torch)
    layer_names: list[str]
    modalities: dict[str, Any]  # "inputs/<name>" and "outputs/<name>" -> modality
    interventions: Interventions


def build_agent_and_env(spec: WorkerSpec, book: Episodes, mode: str) -> None:
    """Seed everything, build the AInimal and its env into `book`, and reset the env."""
    seed_everything(spec.seed)
    book.agent = build_agent(spec.model, spec.init_params)
    book.env = build_env(spec.environment, spec.env_init_params) if spec.environment else None
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(max(1, spec.torch_threads))
    book.agent.mode = mode
    if book.env is not None:
        book.env.action_space.seed(spec.seed)
        book.observation, _ = book.env.reset(seed=spec.seed)
        if hasattr(book.agent, "discrete_actions"):
            book.agent.discrete_actions = hasattr(book.env.action_space, "n")


def telemetry_capture(book: Episodes) -> TelemetryCapture:
    """What turns a step's values into telemetry streams."""
    return TelemetryCapture(book.agent, book.env, named_layers(book.agent))


def instruments(spec: WorkerSpec, book: Episodes, clock: Callable[[], float]) -> Instruments:
    """Describe the built AInimal (where the run stands now) and set up its probe and overrides."""
    description = describe_agent(book.agent, book.env, book.observation)
    layers = named_layers(book.agent)
    probe = ActivationProbe(layers) if layers else None
    inputs = description.get("inputModalities") or {}
    outputs = description.get("outputModalities") or {}
    return Instruments(
        description,
        probe,
        list(layers),
        {**{f"inputs/{k}": v for k, v in inputs.items()}, **{f"outputs/{k}": v for k, v in outputs.items()}},
        Interventions(
            description.get("inputModalities"),
            description.get("outputModalities"),
            {layer["name"]: layer.get("output_shape") for layer in description.get("layers") or []},
            probe,
            clock=clock,
            max_input_age_seconds=spec.max_input_age_seconds,
        ),
    )


def seed_everything(seed: int) -> None:
    """Seed the global generators user code may draw from (random, numpy's, torch's)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
