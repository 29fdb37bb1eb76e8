"""GraphQL queries/s with 8 concurrent clients: the embedded server vs a functions-framework
endpoint that returns a constant, both served on this machine in the same run.

Run: .venv/bin/python bench/graphql_throughput.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from load import post_request, run_load

BENCH = Path(__file__).resolve().parent
QUERY = {"query": "query Me { me { username roles } instances(status: [RUNNING]) { id status step } }"}


def wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            httpx.post(url, json=QUERY, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


def measure(args: list[str], port: int, path: str, seconds: float) -> dict[str, float]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}{path}", process)
        run_load("127.0.0.1", port, post_request("127.0.0.1", port, path, QUERY), seconds=1)  # warm-up
        return run_load("127.0.0.1", port, post_request("127.0.0.1", port, path, QUERY), seconds=seconds)
    finally:
        process.terminate()
        process.wait(30)


def main(seconds: float) -> None:
    bin_dir = Path(sys.executable).parent
    baseline = measure(
        [
            str(bin_dir / "functions-framework"),
            "--target=constant",
            f"--source={BENCH / 'constant_function.py'}",
            "--port=18081",
        ],
        18081,
        "/",
        seconds,
    )
    with tempfile.TemporaryDirectory() as data:
        ours = measure(
            [sys.executable, "-m", "ainimal_zookeeper.server", "--port=18082", f"--data={data}", "--log-level=warning"],
            18082,
            "/graphql",
            seconds,
        )
    for name, result in (("functions-framework constant", baseline), ("zookeeper GraphQL", ours)):
        print(f"{name}: {result['rps']:,.0f} req/s, p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms")
    print(f"ratio {ours['rps'] / baseline['rps']:.2f}x the constant endpoint (target >= 0.75x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    main(parser.parse_args().seconds)
