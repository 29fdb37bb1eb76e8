"""The torch policy of the observe / record benchmark: an MLP 4-64-64-2 on CartPole, greedy.

`SelfTimedTorchMlpPolicy` is the same policy run by a worker that, every `segment_seconds`,
times the bare loop (`bare_steps_per_second`) inside its own `forward`, in the worker's
process, and writes both rates to a report file: see bench/observe_overhead.py for why.
"""

from __future__ import annotations

import json
import time
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from ainimal_zookeeper import AInimal


class TorchMlpPolicy(AInimal):
    """A fixed random torch MLP: the same work in the bare loop and in the worker."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed=seed)
        generator = torch.Generator().manual_seed(seed)
        self.policy = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
        with torch.no_grad():
            for parameter in self.policy.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)

    def forward(self, inputs: dict) -> dict:
        with torch.no_grad():
            logits = self.policy(torch.as_tensor(np.asarray(inputs["observation"], dtype=np.float32)))
        return {"action": int(logits.argmax())}


def bare_steps_per_second(seconds: float, copy_activations: bool) -> float:
    """Steps/s of a fresh policy + env.step + reset in a plain loop; with `copy_activations`,
    forward hooks copy each module's output to numpy every step (the floor a recording is
    measured against)."""
    torch.set_num_threads(1)
    env = gymnasium.make("CartPole-v1")
    agent = TorchMlpPolicy(seed=0)
    copies: list[Any] = []
    if copy_activations:
        for module in agent.policy.modules():
            module.register_forward_hook(lambda _m, _i, out: copies.append(out.detach().numpy().copy()))
    observation, _ = env.reset(seed=1)
    steps, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(500):
            action = agent.forward({"observation": observation})["action"]
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                observation, _ = env.reset()
            copies.clear()
        steps += 500
        if time.perf_counter() >= deadline:
            return steps / (time.perf_counter() - start)


class SelfTimedTorchMlpPolicy(TorchMlpPolicy):
    """TorchMlpPolicy that alternates, in the worker's process, a segment stepped by the worker
    with a segment of the bare loop, and appends each pair of rates to `report` (JSON lines:
    {"worker": steps/s, "bare": steps/s})."""

    def __init__(
        self, seed: int = 0, segment_seconds: float = 1.5, copy_activations: bool = False, report: str = ""
    ) -> None:
        super().__init__(seed=seed)
        self.segment_seconds, self.copy_activations, self.report = segment_seconds, copy_activations, report
        self._calls, self._since = 0, 0.0

    def forward(self, inputs: dict) -> dict:
        self._calls += 1
        if not self._calls & 127:  # the clock every 128 steps: timing must not cost the worker's side
            now = time.perf_counter()
            if not self._since:
                self._since, self._calls = now, 0
            elif now - self._since >= self.segment_seconds:
                worker = self._calls / (now - self._since)
                bare = bare_steps_per_second(self.segment_seconds, self.copy_activations)
                with open(self.report, "a") as report:
                    report.write(json.dumps({"worker": worker, "bare": bare}) + "\n")
                self._calls, self._since = 0, time.perf_counter()
        # TorchMlpPolicy.forward's body, not a call to it: an extra call per step would count
        # against the worker's side only (the bare loop calls TorchMlpPolicy.forward directly).
        with torch.no_grad():
            logits = self.policy(torch.as_tensor(np.asarray(inputs["observation"], dtype=np.float32)))
        return {"action": int(logits.argmax())}
