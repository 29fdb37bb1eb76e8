"""The torch policy of the observe / record benchmark: an MLP 4-64-64-2 on CartPole, greedy.

`SelfTimedTorchMlpPolicy` is the same policy run by a worker that, every `segment_seconds`,
times the bare loop (`bare_steps_per_second`) inside its own `forward`, in the worker's
process, and writes both rates to a report file: see bench/observe_overhead.py for why.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from ainimal_zookeeper import AInimal

#: The bare loop reads the clock every this many steps (the worker's side every 128 too).
BARE_CHECK_EVERY = 128


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


def bare_steps(seconds: float, copy_activations: bool, agent: TorchMlpPolicy, env: Any) -> tuple[int, float]:
    """(steps, seconds taken) of `agent`'s plain forward + env.step + reset in a plain loop for
    about `seconds`; with `copy_activations`, forward hooks copy each module's output to numpy
    every step (the floor a recording is measured against)."""
    forward = TorchMlpPolicy.forward.__get__(agent)  # the plain policy's forward, whatever subclass
    copies: list[Any] = []
    handles = []
    if copy_activations:
        for module in agent.policy.modules():
            handles.append(module.register_forward_hook(lambda _m, _i, out: copies.append(out.detach().numpy().copy())))
    observation, _ = env.reset(seed=1)
    steps, start = 0, time.perf_counter()
    deadline = start + seconds
    try:
        while True:
            for _ in range(BARE_CHECK_EVERY):
                action = forward({"observation": observation})["action"]
                observation, _, terminated, truncated, _ = env.step(action)
                if terminated or truncated:
                    observation, _ = env.reset()
                copies.clear()
            steps += BARE_CHECK_EVERY
            now = time.perf_counter()
            if now >= deadline:
                return steps, now - start
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def hooks_set_aside(module: nn.Module) -> Iterator[None]:
    """Take the worker's forward hooks off `module`'s layers for a while (a recording holds hooks
    on them), so the bare loop inside the worker's process runs bare."""
    saved = [(layer, layer._forward_hooks, layer._forward_pre_hooks) for layer in module.modules()]
    for layer, _, _ in saved:
        layer._forward_hooks, layer._forward_pre_hooks = OrderedDict(), OrderedDict()
    try:
        yield
    finally:
        for layer, hooks, pre_hooks in saved:
            layer._forward_hooks, layer._forward_pre_hooks = hooks, pre_hooks


class SelfTimedTorchMlpPolicy(TorchMlpPolicy):
    """TorchMlpPolicy that alternates, in the worker's process, a segment of `segment_seconds`
    stepped by the worker with one of the bare loop (same policy, its own env), and after
    `pairs_per_round` pairs appends the round's rates to `report` (JSON lines: {"worker":
    steps/s, "bare": steps/s}, each over the round's segments). Short segments, interleaved,
    cancel the machine's drift: rates of one loop measured a second apart differ by up to ±10%."""

    def __init__(
        self,
        seed: int = 0,
        segment_seconds: float = 0.2,
        pairs_per_round: int = 5,
        copy_activations: bool = False,
        report: str = "",
    ) -> None:
        super().__init__(seed=seed)
        self.segment_seconds, self.pairs_per_round = segment_seconds, pairs_per_round
        self.copy_activations, self.report = copy_activations, report
        self._calls, self._since = 0, 0.0
        self._pairs, self._worker, self._bare = 0, [0, 0.0], [0, 0.0]  # [steps, seconds] this round
        self._pair_ratios: list[float] = []
        self._bare_env = gymnasium.make("CartPole-v1")  # the bare loop's own env, made once

    def forward(self, inputs: dict) -> dict:
        self._calls += 1
        if not self._calls & 127:  # the clock every 128 steps: timing must not cost the worker's side
            self._maybe_switch()
        # TorchMlpPolicy.forward's body, not a call to it: an extra call per step would count
        # against the worker's side only (the bare loop calls TorchMlpPolicy.forward directly).
        with torch.no_grad():
            logits = self.policy(torch.as_tensor(np.asarray(inputs["observation"], dtype=np.float32)))
        return {"action": int(logits.argmax())}

    def _maybe_switch(self) -> None:
        now = time.perf_counter()
        if not self._since:
            self._since, self._calls = now, 0
            return
        if now - self._since < self.segment_seconds:
            return
        self._worker[0] += self._calls
        self._worker[1] += now - self._since
        with hooks_set_aside(self.policy):
            steps, taken = bare_steps(self.segment_seconds, self.copy_activations, self, self._bare_env)
        self._bare[0] += steps
        self._bare[1] += taken
        self._pair_ratios.append((steps / taken) / (self._calls / (now - self._since)))
        self._pairs += 1
        if self._pairs == self.pairs_per_round:
            rates = {
                "worker": self._worker[0] / self._worker[1],
                "bare": self._bare[0] / self._bare[1],
                "pairs": self._pair_ratios,  # each pair's bare / worker, adjacent segments
            }
            with open(self.report, "a") as report:
                report.write(json.dumps(rates) + "\n")
            self._pairs, self._worker, self._bare, self._pair_ratios = 0, [0, 0.0], [0, 0.0], []
        self._calls, self._since = 0, time.perf_counter()
