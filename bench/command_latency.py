"""Pause / resume latency: from sending the command to the worker's CommandApplied event.

The round trip bounds the time until the worker applied the command from above.
Run: .venv/bin/python bench/command_latency.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev

from workers import WorkerBench, policy_model


def measure(rounds: int) -> dict[str, float]:
    """p50 / p99 milliseconds of pause and resume round trips together, and p50 of each."""
    with tempfile.TemporaryDirectory() as folder:
        bench = WorkerBench(Path(folder))
        try:
            instance = bench.launch(policy_model())
            samples = []
            for i in range(rounds):
                command = cmd.Pause(instance) if i % 2 == 0 else cmd.Resume(instance)
                start = time.perf_counter()
                bench.hub.send(command)
                bench.wait_for(lambda e, c=command: isinstance(e, ev.CommandApplied) and e.command_id == c.command_id)
                samples.append((time.perf_counter() - start) * 1000)
                time.sleep(0.005)  # let the worker step between commands
        finally:
            bench.close()
    pauses, resumes = samples[0::2], samples[1::2]
    samples.sort()
    return {
        "pause_p50_ms": statistics.median(pauses),
        "resume_p50_ms": statistics.median(resumes),
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[int(len(samples) * 0.99) - 1],
        "rounds": rounds,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    result = measure(parser.parse_args().rounds)
    print(
        f"command round trip: p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms over {result['rounds']} commands"
        f" (pause p50 {result['pause_p50_ms']:.2f} ms, resume p50 {result['resume_p50_ms']:.2f} ms)"
    )
