"""Harness overhead: steps/s of an instance under the worker vs a bare gymnasium loop with
the same policy, measured in the same run, one after the other on an otherwise idle machine.

Run: .venv/bin/python bench/harness_overhead.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev

from policies import MlpPolicy
from workers import WorkerBench, policy_model


def bare_loop(seconds: float) -> float:
    """Steps per second of policy + env.step + reset, nothing else."""
    env = gymnasium.make("CartPole-v1")
    policy = MlpPolicy(seed=0)
    observation, _ = env.reset(seed=1)
    steps, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(1000):
            action = policy.forward({"observation": observation})["action"]
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                observation, _ = env.reset()
        steps += 1000
        if time.perf_counter() >= deadline:
            return steps / (time.perf_counter() - start)


def worker_loop(seconds: float) -> float:
    """Steps per second of the same policy hosted by a real worker process."""
    with tempfile.TemporaryDirectory() as folder:
        bench = WorkerBench(Path(folder))
        try:
            instance = bench.launch(policy_model())
            first = bench.wait_for(lambda e: isinstance(e, ev.Progress) and e.instance_id == instance and e.step > 0)
            time.sleep(seconds)
            last = bench.wait_for(lambda e: isinstance(e, ev.Progress) and e.time > first.time + seconds - 0.3)
            bench.hub.send(cmd.Terminate(instance))
        finally:
            bench.close()
    return (last.step - first.step) / (last.time - first.time)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    seconds = parser.parse_args().seconds
    bare = bare_loop(seconds)
    hosted = worker_loop(seconds)
    print(
        f"bare loop {bare:,.0f} steps/s; worker {hosted:,.0f} steps/s; overhead {bare / hosted:.3f}x (target <= 1.10x)"
    )
