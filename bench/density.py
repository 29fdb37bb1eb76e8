"""Density: how many paced CartPole instances one machine holds with their steps on time.

Launches `--instances` instances of the numpy REINFORCE agent (INFER) on CartPole through the
embedded server, each with `pace: --pace`, lets them settle, then measures over `--seconds`:

- on time: the share of the steps that fell due which started within one period of their
  deadline. The worker counts them (`metrics.steps_due`, `metrics.steps_late`,
  worker/pacing.py): a step that starts more than a period after its deadline is late, and so
  is every beat skipped meanwhile (a late step starts a fresh beat instead of bursting);
- achieved: all instances' steps a second against instances x pace;
- load: the 1-minute load average and the machine's CPU use over the window.

Target (issue 11): >= 100 instances at 50 Hz with >= 95 % of steps on time on 2 cores.

Run: .venv/bin/python bench/density.py [--instances 100] [--pace 50] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from embedded import EmbeddedServer, cartpole_zoo, cpu_seconds, descendants

REINFORCE = ("Reinforce", "cartpole_reinforce.py", "ReinforceAgent")


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def rate(before: dict[str, Any], after: dict[str, Any]) -> float:
    """Steps a second between two snapshots of one instance, timed by its progress writes."""
    span = datetime.fromisoformat(after["updatedAt"]) - datetime.fromisoformat(before["updatedAt"])
    return float(after["step"] - before["step"]) / max(span.total_seconds(), 1e-3)


def snapshot(server: EmbeddedServer) -> dict[str, dict[str, Any]]:
    instances = server.gql("{ instances { id status step metrics stepsPerSecond error updatedAt } }")["instances"]
    statuses = Counter(i["status"] for i in instances)
    errors = Counter((i["error"] or "")[:100] for i in instances if i["error"])
    print(f"  statuses: {dict(statuses)}" + (f"; errors: {dict(errors)}" if errors else ""), flush=True)
    return {i["id"]: i for i in instances if i["status"] == "RUNNING"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--pace", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measured window")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after the last launch before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zk-density-") as folder:
        server = EmbeddedServer(Path(folder), cartpole_zoo(args.instances + 4, [REINFORCE]))
        try:
            started = time.monotonic()
            launch = "mutation($i: LaunchInput!) { launch(input: $i) { id status } }"
            for n in range(args.instances):
                server.gql(launch, {"i": {"model": "Reinforce", "environment": "CartPole", "pace": args.pace}})
                if (n + 1) % 20 == 0:
                    print(f"  launched {n + 1} in {time.monotonic() - started:.0f} s", flush=True)
            time.sleep(args.settle)
            workers = descendants(server.process.pid)
            server0, workers0 = cpu_seconds([server.process.pid]), cpu_seconds(workers)
            # Each window end is timed when its query starts: the documents are read then, and
            # a slow answer (a loaded server) would otherwise stretch the window unseen.
            t0, busy0 = time.monotonic(), cpu_busy()
            before = snapshot(server)
            time.sleep(args.seconds)
            t1, busy1 = time.monotonic(), cpu_busy()
            after = snapshot(server)
            server_cpu = (cpu_seconds([server.process.pid]) - server0) / (t1 - t0)
            workers_cpu = (cpu_seconds(workers) - workers0) / (t1 - t0)
            load = os.getloadavg()[0]
        finally:
            server.stop()
    both = [i for i in after if i in before]
    # Each instance's rate over the span between its two progress writes (`updatedAt`): a loaded
    # server writes progress late, so the documents' age differs from the query's.
    achieved = sum(rate(before[i], after[i]) for i in both)
    paced = sum(
        (after[i]["metrics"] or {}).get("steps_due", 0) - (before[i]["metrics"] or {}).get("steps_due", 0) for i in both
    )
    late = sum(
        (after[i]["metrics"] or {}).get("steps_late", 0) - (before[i]["metrics"] or {}).get("steps_late", 0)
        for i in both
    )
    asked = len(both) * args.pace
    cpu = (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1])
    on_time = 1 - late / paced if paced else 0.0
    print(f"{len(both)} of {args.instances} instances running at pace {args.pace:g} on {os.cpu_count()} cores")
    print(f"  on time: {on_time:.1%} of {paced:,} steps due ({late:,} late: > 1 period after their deadline)")
    print(f"  achieved: {achieved:,.0f} steps/s of {asked:,.0f} asked ({achieved / asked if asked else 0:.1%})")
    rates = [after[i]["stepsPerSecond"] or 0.0 for i in both]
    print(
        f"  workers' own rate (stepsPerSecond, last ~2 s): mean {sum(rates) / max(1, len(rates)):.1f}, min {min(rates, default=0):.1f}"
    )
    print(f"  machine: {cpu:.0%} CPU busy over the window, load average {load:.1f}")
    # What each side costs, in cores: unlike the on-time share, barely moved by other jobs.
    print(
        f"  server: {server_cpu:.2f} cores; workers: {workers_cpu:.2f} cores ({workers_cpu / max(1, len(both)):.3f} each)"
    )
    ok = len(both) >= args.instances and on_time >= 0.95 and achieved >= 0.95 * asked
    print("PASS" if ok else "FAIL (target: all running, >= 95 % on time, >= 95 % of the asked rate)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
