"""Observing and recording cost: steps/s of a torch MLP (4-64-64-2) CartPole agent in a worker,
against the bare loop measured in the same worker process, in alternating segments.

- nothing observed vs the bare loop (target <= 1.03x);
- inputs, outputs, reward and every layer's activations observed at 60 Hz vs the bare loop
  (target <= 1.05x: hooks only on the sampled steps);
- every step recorded (inputs, outputs, reward, every layer's activations) vs the floor: the
  bare loop with forward hooks copying every layer's output to numpy each step (target <= 1.10x).

How it is measured. The agent (`SelfTimedTorchMlpPolicy`, bench/torch_policies.py) counts the
steps the worker takes for `--seconds`, then runs the bare loop itself, inside its `forward`,
for as long (the worker's own stepping stops meanwhile): the same policy object, its own
CartPole env, with the worker's forward hooks set aside. After `--pairs` such pairs it writes
the round's two rates down; a ratio is the median over `--rounds` rounds, after two warm-up
rounds. Both sides run in the same process, on the same core: the worker's main thread is
pinned to `--core` (the last one by default) and its other threads (the bus's, the recorder's
writer, the log readers) to the other cores. Short segments, interleaved, cancel the machine's
drift: one loop's rate measured a second apart differs by up to ±10% on an idle machine, and
two identical loops in two processes by up to ±8%, more than the costs measured here.

Run: .venv/bin/python bench/observe_overhead.py [--seconds 0.2] [--pairs 5] [--rounds 9] [--core N | --core -1]
     [--cases plain,observed,recorded]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median

from ainimal_zookeeper.domain import commands as cmd

from workers import BENCH, WorkerBench

OBSERVED = ["inputs", "outputs", "reward", "activations"]
RECORDED = ["inputs", "outputs", "reward", "activations"]
WARM_UP_ROUNDS = 2  # the first seconds of a recording size its buffers; they cost more


def pin_threads(pid: int, core: int) -> None:
    """Pin process `pid`'s main thread to `core` and its other threads to every other core
    (Linux pins per thread; threads started later inherit the pin of their starter)."""
    others = os.sched_getaffinity(0) - {core}
    for task in os.listdir(f"/proc/{pid}/task"):
        tid = int(task)
        if tid == pid:
            os.sched_setaffinity(tid, {core})
        elif others:
            os.sched_setaffinity(tid, others)


def self_timed_model(segment_seconds: float, pairs: int, copy_activations: bool, report: Path) -> dict:
    """The model entry of the self-timing policy (its init parameters travel in the launch)."""
    init = {
        "segment_seconds": segment_seconds,
        "pairs_per_round": pairs,
        "copy_activations": copy_activations,
        "report": str(report),
    }
    return {
        "name": "TorchMlpSelfTimed",
        "type": "ainimal",
        "path": str(BENCH / "torch_policies.py"),
        "class_name": "SelfTimedTorchMlpPolicy",
        "init": init,
    }


def compare(setup: str, rounds: int, seconds: float, pairs: int, core: int | None) -> tuple[float, float, list[float]]:
    """(median bare steps/s, median worker steps/s, each round's bare / worker) for `setup`."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "rates.jsonl"
        bench = WorkerBench(Path(folder) / "blobs")
        try:
            model = self_timed_model(seconds, pairs, setup == "recorded", report)
            instance = bench.launch(model, init_params=model.pop("init"))
            if core is not None:
                pid = bench.compute.pid(instance)
                assert pid is not None, "the worker is not running"
                pin_threads(pid, core)
            if setup == "observed":
                bench.hub.send(
                    cmd.ObserveStreams(instance, observer_id="bench", streams=OBSERVED, max_hz=60, lease_seconds=600)
                )
            elif setup == "recorded":
                bench.hub.send(cmd.StartRecording(instance, recording_id=uuid.uuid4().hex, streams=RECORDED))
            wanted = WARM_UP_ROUNDS + rounds
            deadline = time.monotonic() + wanted * pairs * seconds * 4 + 60
            reported: list[dict] = []
            while len(reported) < wanted:
                assert time.monotonic() < deadline, f"only {len(reported)} of {wanted} rounds came"
                time.sleep(pairs * seconds / 2)
                if report.exists():
                    reported = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
            bench.hub.send(cmd.Terminate(instance))
        finally:
            bench.close()
    measured = reported[WARM_UP_ROUNDS:wanted]
    ratios = [p["bare"] / p["worker"] for p in measured]
    print(f"  {setup}, each round's ratio: {', '.join(f'{r:.3f}' for r in ratios)}")
    pairs = sorted(ratio for p in measured for ratio in p["pairs"])
    print(
        f"  {setup}, median of the {len(pairs)} pairs' ratios {median(pairs):.3f} "
        f"(middle half {pairs[len(pairs) // 4]:.3f}-{pairs[3 * len(pairs) // 4]:.3f})"
    )
    return median(p["bare"] for p in measured), median(p["worker"] for p in measured), ratios


def spread(ratios: list[float]) -> str:
    return f"rounds {min(ratios):.3f}-{max(ratios):.3f}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.2, help="length of each segment")
    parser.add_argument("--pairs", type=int, default=5, help="worker / bare segment pairs per round")
    parser.add_argument("--rounds", type=int, default=9, help="rounds per case")
    parser.add_argument(
        "--core", type=int, default=max(os.sched_getaffinity(0)), help="the core the worker steps on (-1: any)"
    )
    parser.add_argument(
        "--cases", default="plain,observed,recorded", help="which cases to run, comma-separated (all by default)"
    )
    args = parser.parse_args()
    core = None if args.core < 0 else args.core
    cases = set(args.cases.split(","))
    if "plain" in cases:
        bare, plain, ratios = compare("plain", args.rounds, args.seconds, args.pairs, core)
        print(
            f"worker, nothing observed {plain:,.0f} steps/s vs bare loop {bare:,.0f}: "
            f"{median(ratios):.3f}x ({spread(ratios)}; target <= 1.03x)"
        )
    if "observed" in cases:
        bare, observed, ratios = compare("observed", args.rounds, args.seconds, args.pairs, core)
        print(
            f"worker, {', '.join(OBSERVED)} observed at 60 Hz {observed:,.0f} steps/s vs bare loop {bare:,.0f}: "
            f"{median(ratios):.3f}x ({spread(ratios)}; target <= 1.05x)"
        )
    if "recorded" in cases:
        floor, recorded, ratios = compare("recorded", args.rounds, args.seconds, args.pairs, core)
        print(
            f"worker, every step recorded ({', '.join(RECORDED)}) {recorded:,.0f} steps/s vs the floor "
            f"(bare loop with hooks copying every layer to numpy) {floor:,.0f}: "
            f"{median(ratios):.3f}x ({spread(ratios)}; target <= 1.10x)"
        )
