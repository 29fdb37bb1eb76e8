"""Observing and recording cost: steps/s of a torch MLP (4-64-64-2) CartPole agent in a worker,
against bare loops measured in the same run, one after the other.

- nothing observed vs the bare loop (target <= 1.10x);
- inputs, outputs, reward and every layer's activations observed at 60 Hz vs the bare loop
  (target <= 1.10x: hooks only on the sampled steps);
- every step recorded (inputs, outputs, reward, every layer's activations) vs the floor: the
  bare loop with forward hooks copying every layer's output to numpy each step (target <= 1.15x).

Run: .venv/bin/python bench/observe_overhead.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import gymnasium
import torch

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev

from torch_policies import TorchMlpPolicy
from workers import BENCH, WorkerBench

MODEL = {
    "name": "TorchMlp",
    "type": "ainimal",
    "path": str(BENCH / "torch_policies.py"),
    "class_name": "TorchMlpPolicy",
}
OBSERVED = ["inputs", "outputs", "reward", "activations"]
RECORDED = ["inputs", "outputs", "reward", "activations"]


def bare_loop(seconds: float, copy_activations: bool) -> float:
    """Steps/s of policy + env.step + reset; with `copy_activations`, hooks copy each layer's output."""
    torch.set_num_threads(1)
    env = gymnasium.make("CartPole-v1")
    agent = TorchMlpPolicy(seed=0)
    copies: list = []
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


def worker_rate(seconds: float, setup: str) -> tuple[float, int]:
    """Steps/s of the policy in a real worker: "plain", "observed" at 60 Hz or "recorded"; and frames seen."""
    with tempfile.TemporaryDirectory() as folder:
        bench = WorkerBench(Path(folder))
        try:
            instance = bench.launch(MODEL)
            if setup == "observed":
                observe = cmd.ObserveStreams(
                    instance, observer_id="bench", streams=OBSERVED, max_hz=60, lease_seconds=60
                )
                bench.hub.send(observe)
            elif setup == "recorded":
                bench.hub.send(cmd.StartRecording(instance, recording_id=uuid.uuid4().hex, streams=RECORDED))
            first = bench.wait_for(lambda e: isinstance(e, ev.Progress) and e.instance_id == instance and e.step > 0)
            time.sleep(seconds)
            last = bench.wait_for(lambda e: isinstance(e, ev.Progress) and e.time > first.time + seconds - 0.3)
            frames = sum(
                1 for e in bench.events if isinstance(e, ev.TelemetryFrame) and first.time <= e.time <= last.time
            )
            bench.hub.send(cmd.Terminate(instance))
        finally:
            bench.close()
    return (last.step - first.step) / (last.time - first.time), frames


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    seconds = parser.parse_args().seconds
    bare = bare_loop(seconds, copy_activations=False)
    floor = bare_loop(seconds, copy_activations=True)
    plain, _ = worker_rate(seconds, "plain")
    observed, frames = worker_rate(seconds, "observed")
    recorded, _ = worker_rate(seconds, "recorded")
    print(
        f"bare loop {bare:,.0f} steps/s; with hooks copying every layer to numpy (floor) {floor:,.0f} steps/s ({bare / floor:.2f}x)"
    )
    print(f"worker, nothing observed {plain:,.0f} steps/s: {bare / plain:.3f}x the bare loop (target <= 1.10x)")
    print(
        f"worker, {', '.join(OBSERVED)} observed at 60 Hz {observed:,.0f} steps/s ({frames / seconds:.0f} frames/s): "
        f"{bare / observed:.3f}x the bare loop (target <= 1.10x)"
    )
    print(
        f"worker, every step recorded ({', '.join(RECORDED)}) {recorded:,.0f} steps/s: {floor / recorded:.3f}x the floor (target <= 1.15x)"
    )
