"""Live telemetry latency on the embedded default: from a frame's creation in the worker to a
GraphQL subscriber that has parsed it, against the event bus alone, in the same run.

- Server: `python -m ainimal_zookeeper.server` with the example zoo (examples/zoo.yaml), a
  TorchReinforce agent on CartPole launched through GraphQL, and a `telemetry` subscription
  over Server-Sent Events (graphql-sse) for inputs, outputs and reward at maxHz 60. A frame's
  latency is this process's clock when it has parsed the frame's `data:` line, minus the
  frame's `time` (the worker's `time.time()` when it built the TelemetryFrame, carried
  unchanged through the bus, the hub and GraphQL). Target: p50 <= 30 ms at 60 Hz.
- Baseline: the same agent in a worker started through the ports (bench/workers.py), its
  frames read straight off the local ZeroMQ event bus in this process (no HTTP, no GraphQL),
  which is the floor any subscriber of the embedded server pays.

Both sides read the same machine clock (`time.time()`).

Run: .venv/bin/python bench/telemetry_latency.py [--seconds 10] [--warm-up 1.5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev

from workers import BENCH, WorkerBench

ZOO = BENCH.parent / "examples" / "zoo.yaml"
STREAMS = ["inputs", "outputs", "reward"]
HZ = 60.0
#: The example zoo's torch agent, as the server's catalog builds it (for the bus baseline).
MODEL = {
    "name": "TorchReinforce",
    "type": "ainimal",
    "path": str(BENCH.parent / "examples" / "torch_policy.py"),
    "class_name": "TorchReinforceAgent",
}
LAUNCH = """mutation { launch(input: {model: "TorchReinforce", environment: "CartPole", mode: INFER}) { id status } }"""
TELEMETRY = """subscription($id: ID!, $streams: [String!], $hz: Float) {
  telemetry(id: $id, streams: $streams, maxHz: $hz) { instance step time streams dropped }
}"""


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentiles(samples: list[float], seconds: float) -> dict[str, float]:
    """p50 / p90 / p99 of `samples` (ms), and how many arrived a second over `seconds`."""
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(len(ordered) * q) - 1)]

    return {
        "p50": statistics.median(ordered),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "frames/s": len(ordered) / seconds,
        "frames": len(ordered),
    }


# -- baseline: the event bus alone


def bus_latencies(folder: Path, seconds: float, warm_up: float) -> dict[str, float]:
    """Frame creation in a worker to this process's event-bus callback, over `seconds` at 60 Hz."""
    samples: list[float] = []
    arrivals: list[float] = []
    measuring = False

    def on_event(event: ev.Event) -> None:
        if measuring and isinstance(event, ev.TelemetryFrame) and event.request_id is None:
            samples.append((time.time() - event.time) * 1000)
            arrivals.append(time.monotonic())

    bench = WorkerBench(folder / "bus-blobs")
    try:
        instance = bench.launch(MODEL)
        unsubscribe = bench.event_bus.subscribe(on_event)
        observe = cmd.ObserveStreams(instance, observer_id="bench", streams=STREAMS, max_hz=HZ, lease_seconds=600)
        bench.commands.send(observe)
        time.sleep(warm_up)  # the first pulls, the worker's allocator, the socket buffers
        measuring = True
        time.sleep(seconds)
        measuring = False
        unsubscribe()
        bench.commands.send(cmd.Terminate(instance))
    finally:
        bench.close()
    figures = percentiles(samples, seconds)
    # The server's hub passes a frame only if it arrives at least 0.9 / maxHz after the last one
    # it passed (telemetry_hub.RATE_TOLERANCE): how many arrivals here came sooner than that.
    figures["close"] = sum(b - a < 0.9 / HZ for a, b in zip(arrivals, arrivals[1:], strict=False))
    return figures


# -- the embedded server over GraphQL and SSE


@contextmanager
def embedded_server(folder: Path) -> Iterator[httpx.Client]:
    """`python -m ainimal_zookeeper.server` on the example zoo; a client for it; stopped after."""
    port = free_port()
    log = open(folder / "server.log", "w")  # closed below, after the server
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ainimal_zookeeper.server",
            f"--port={port}",
            f"--data={folder / 'data'}",
            f"--config={ZOO}",
            "--log-level=warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=BENCH.parent,
        env=dict(os.environ),
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}: {(folder / 'server.log').read_text()}")
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready in 60 s")
            time.sleep(0.05)
        yield client
    finally:
        client.close()
        server.send_signal(signal.SIGINT)  # Ctrl-C, as users stop it: workers stop with it
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def gql(client: httpx.Client, query: str) -> dict[str, Any]:
    """A GraphQL request's data (RuntimeError on errors)."""
    body = client.post("/graphql", json={"query": query}).json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


def launch_running(client: httpx.Client) -> str:
    """Launch the torch agent on CartPole; its id once RUNNING."""
    instance = gql(client, LAUNCH)["launch"]
    deadline = time.monotonic() + 60
    while instance["status"] == "STARTING" and time.monotonic() < deadline:
        time.sleep(0.05)
        instance = gql(client, f'{{ instance(id: "{instance["id"]}") {{ id status }} }}')["instance"]
    if instance["status"] != "RUNNING":
        raise RuntimeError(f"launch ended {instance['status']}")
    return instance["id"]


def sse_latencies(client: httpx.Client, instance: str, seconds: float, warm_up: float) -> dict[str, float]:
    """Frame creation in the worker to this process having parsed it from the SSE stream."""
    body = {"query": TELEMETRY, "variables": {"id": instance, "streams": STREAMS, "hz": HZ}}
    samples: list[float] = []
    dropped = skipped = 0
    last: float | None = None
    opened = time.monotonic()
    with client.stream("POST", "/graphql", json=body, headers={"accept": "text/event-stream"}) as response:
        if response.status_code != 200:
            raise RuntimeError(response.read())
        start = end = math.inf
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            message = json.loads(line[6:])
            received = time.time()
            if message.get("errors"):
                raise RuntimeError(message["errors"])
            frame = message["data"]["telemetry"]
            now = time.monotonic()
            if math.isinf(start) and now - opened >= warm_up:
                start, end = now, now + seconds
            if now >= end:
                break
            if now >= start:
                samples.append((received - frame["time"]) * 1000)
                dropped = frame["dropped"]
                # 1.5 periods or more between two frames' creation times: at least one frame left out on the way.
                skipped += last is not None and frame["time"] - last >= 1.5 / HZ
                last = frame["time"]
    figures = percentiles(samples, seconds)
    figures["dropped"], figures["skipped"] = dropped, skipped
    return figures


def server_latencies(folder: Path, seconds: float, warm_up: float) -> dict[str, float]:
    """Start the server, launch, subscribe, measure; the server is stopped after."""
    with embedded_server(folder) as client:
        time.sleep(1.0)  # let the fork server finish its imports, as it does after a start
        instance = launch_running(client)
        try:
            return sse_latencies(client, instance, seconds, warm_up)
        finally:
            gql(client, f'mutation {{ terminate(id: "{instance}") {{ status }} }}')


def main(seconds: float, warm_up: float) -> None:
    """Measure the bus baseline, then the server; print both and their ratios."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        bus = bus_latencies(folder, seconds, warm_up)
        sse = server_latencies(folder, seconds, warm_up)
    print(f"telemetry {', '.join(STREAMS)} at maxHz {HZ:g}, TorchReinforce on CartPole, {seconds:g} s each:")
    for name, figures in (("event bus (baseline)", bus), ("GraphQL over SSE", sse)):
        print(
            f"  {name:<21} p50 {figures['p50']:6.2f} ms   p90 {figures['p90']:6.2f} ms   "
            f"p99 {figures['p99']:6.2f} ms   {figures['frames/s']:5.1f} frames/s ({figures['frames']:.0f})"
        )
    print(
        f"  SSE / bus             p50 {sse['p50'] / bus['p50']:6.1f}x     p90 {sse['p90'] / bus['p90']:6.1f}x     "
        f"p99 {sse['p99'] / bus['p99']:6.1f}x   (the server's share: p50 +{sse['p50'] - bus['p50']:.2f} ms)"
    )
    print(
        f"live latency, step to subscriber, p50 {sse['p50']:.2f} ms (target <= 30 ms); "
        f"{sse['frames/s']:.1f} frames/s of {HZ:g} asked ({sse['frames/s'] / HZ:.2f}x); "
        f"{sse['skipped']:.0f} gaps of a frame or more between frames received, {sse['dropped']:.0f} dropped by a full queue"
    )
    print(
        f"  (on the bus, {bus['close']:.0f} of {bus['frames']:.0f} frames arrived sooner than 0.9/{HZ:g} s after "
        f"the one before, which the hub's rate filter would leave out)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds on each side")
    parser.add_argument("--warm-up", type=float, default=1.5, help="seconds of frames left out at the start")
    arguments = parser.parse_args()
    main(arguments.seconds, arguments.warm_up)
