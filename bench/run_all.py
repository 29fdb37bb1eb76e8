"""Run every benchmark in turn and print their figures (for docs/performance.md).

Run: .venv/bin/python bench/run_all.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = [
    "harness_overhead.py",
    "observe_overhead.py",
    "command_latency.py",
    "launch_latency.py",
    "checkpoint_io.py",
    "graphql_throughput.py",
    "cloud_paths.py",
    "telemetry_latency.py",
    "recording_io.py",
    "replay_speed.py",
    "hostile_documents.py",
]

if __name__ == "__main__":
    failed = 0
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        failed |= subprocess.call([sys.executable, str(BENCH / script)], cwd=BENCH.parent)
    sys.exit(failed)
