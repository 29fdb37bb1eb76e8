"""Observing and recording cost: steps/s of a torch MLP (4-64-64-2) CartPole agent in a worker,
against bare loops measured in the same run, one after the other.

- nothing observed vs the bare loop (target <= 1.03x);
- inputs, outputs, reward and every layer's activations observed at 60 Hz vs the bare loop
  (target <= 1.05x: hooks only on the sampled steps);
- every step recorded (inputs, outputs, reward, every layer's activations) vs the floor: the
  bare loop with forward hooks copying every layer's output to numpy each step (target <= 1.10x).

Each ratio is the median over rounds that alternate a baseline segment (in this process, the
worker paused) with a worker segment. Both step on the same CPU core (`--core`, the last one by
default): the baseline's thread and the worker's main thread are pinned to it, so neither is
measured on a core the scheduler just moved it to or one shared with the other's helpers (the
bus, the recorder's writer thread and the log readers keep the other cores).

Run: .venv/bin/python bench/observe_overhead.py [--seconds 1.5] [--rounds 9] [--core N | --core -1 for none]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median

import gymnasium
import torch

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev

from torch_policies import TorchMlpPolicy
from workers import WorkerBench, torch_policy_model

OBSERVED = ["inputs", "outputs", "reward", "activations"]
RECORDED = ["inputs", "outputs", "reward", "activations"]
WARM_UP_SECONDS = 3.0


def bare_loop(seconds: float, copy_activations: bool, core: int | None) -> float:
    """Steps/s of policy + env.step + reset; with `copy_activations`, hooks copy each layer's output.

    On `core` when given: this thread only, for the segment (threads it starts would inherit it).
    """
    everywhere = os.sched_getaffinity(0)
    if core is not None:
        os.sched_setaffinity(0, {core})
    try:
        return _bare_steps_per_second(seconds, copy_activations)
    finally:
        os.sched_setaffinity(0, everywhere)


def _bare_steps_per_second(seconds: float, copy_activations: bool) -> float:
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


class WorkerSegments:
    """One worker set up as `setup`, stepped in segments between pauses.

    The baseline is measured in this process while the worker is paused, alternating with
    the worker's segments, so both see the same machine (other load drifts over a run of a
    minute, which skews a ratio of two measurements taken far apart).
    """

    def __init__(self, bench: WorkerBench, setup: str, core: int | None) -> None:
        self.bench = bench
        self.instance = bench.launch(torch_policy_model())
        if setup == "observed":
            observe = cmd.ObserveStreams(
                self.instance, observer_id="bench", streams=OBSERVED, max_hz=60, lease_seconds=600
            )
            bench.hub.send(observe)
        elif setup == "recorded":
            bench.hub.send(cmd.StartRecording(self.instance, recording_id=uuid.uuid4().hex, streams=RECORDED))
        # Steady state: the first seconds of a recording size its buffers (blocks grow, the
        # chunk memory is first touched); they cost more than the steps after.
        self.segment(WARM_UP_SECONDS)
        if core is not None:
            # The main thread only (Linux pins per thread): the threads the worker started, the
            # recorder's writer among them, stay free to run on the other cores.
            pid = bench.compute.pid(self.instance)
            assert pid is not None, "the worker is not running"
            os.sched_setaffinity(pid, {core})

    def segment(self, seconds: float) -> tuple[float, float]:
        """Resume, step for about `seconds`, pause; returns (steps/s, telemetry frames/s)."""
        bench, instance = self.bench, self.instance
        mark = len(bench.events)
        bench.hub.send(cmd.Resume(instance))
        running = bench.wait_for(lambda e: _progress(e, instance) and e.status == "RUNNING" and e.step > 0, after=mark)
        # The second RUNNING heartbeat on: the first may come from before the resume applied.
        first = bench.wait_for(lambda e: _progress(e, instance) and e.time > running.time, after=mark)
        last = bench.wait_for(lambda e: _progress(e, instance) and e.time >= first.time + seconds, after=mark)
        bench.hub.send(cmd.Pause(instance))
        bench.wait_for(lambda e: _progress(e, instance) and e.status == "PAUSED", after=mark)
        frames = sum(
            1
            for e in bench.events[mark:]
            if isinstance(e, ev.TelemetryFrame) and first.time <= e.time <= last.time and e.instance_id == instance
        )
        elapsed = last.time - first.time
        return (last.step - first.step) / elapsed, frames / elapsed


def _progress(event: ev.Event, instance: str) -> bool:
    return isinstance(event, ev.Progress) and event.instance_id == instance


def compare(
    setup: str, copy_activations: bool, rounds: int, seconds: float, core: int | None
) -> tuple[float, float, float, float]:
    """Median over rounds of (baseline steps/s, worker steps/s, baseline / worker, frames/s)."""
    with tempfile.TemporaryDirectory() as folder:
        bench = WorkerBench(Path(folder))
        try:
            worker = WorkerSegments(bench, setup, core)
            worker.bench.hub.send(cmd.Pause(worker.instance))
            baselines, rates, ratios, frames = [], [], [], []
            for _ in range(rounds):
                baseline = bare_loop(seconds, copy_activations, core)
                rate, frame_rate = worker.segment(seconds)
                baselines.append(baseline)
                rates.append(rate)
                ratios.append(baseline / rate)
                frames.append(frame_rate)
            bench.hub.send(cmd.Terminate(worker.instance))
        finally:
            bench.close()
    print(f"  {setup}, each round's ratio: {', '.join(f'{r:.3f}' for r in ratios)}")
    return median(baselines), median(rates), median(ratios), median(frames)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each measured segment")
    parser.add_argument("--rounds", type=int, default=9, help="baseline / worker segment pairs per case")
    parser.add_argument(
        "--core", type=int, default=max(os.sched_getaffinity(0)), help="the core both step on (-1: no pinning)"
    )
    args = parser.parse_args()
    core = None if args.core < 0 else args.core
    bare, plain, plain_ratio, _ = compare("plain", False, args.rounds, args.seconds, core)
    print(
        f"worker, nothing observed {plain:,.0f} steps/s vs bare loop {bare:,.0f}: {plain_ratio:.3f}x (target <= 1.03x)"
    )
    bare, observed, observed_ratio, frames = compare("observed", False, args.rounds, args.seconds, core)
    print(
        f"worker, {', '.join(OBSERVED)} observed at 60 Hz {observed:,.0f} steps/s ({frames:.0f} frames/s) "
        f"vs bare loop {bare:,.0f}: {observed_ratio:.3f}x (target <= 1.05x)"
    )
    floor, recorded, recorded_ratio, _ = compare("recorded", True, args.rounds, args.seconds, core)
    print(
        f"worker, every step recorded ({', '.join(RECORDED)}) {recorded:,.0f} steps/s vs the floor "
        f"(bare loop with hooks copying every layer to numpy) {floor:,.0f}: {recorded_ratio:.3f}x (target <= 1.10x)"
    )
