"""Hostile GraphQL documents vs everyone else's requests, on the embedded server (issue 12).

- Server: `python -m ainimal_zookeeper.server` with the example zoo (examples/zoo.yaml).
- Good client: one keep-alive client sending `{ __typename }` and a small real query
  (`{ models { name } }`) back to back, timing each round trip.
- Attacker(s): clients sending, in a loop, the issue's hostile documents: 5,000 repeated
  `models { name }` (80 KB), distinct ~99 KB documents refused by validation, deeply nested
  GraphQL and JSON (variables), and 1,000 aliases.
- Rounds alternate: `--seconds` of the good client alone ("quiet"), then as long with the
  attackers running ("attack"), `--rounds` times, in the same run. Reported: the good
  requests' p50 / p99 per phase (median of the rounds, and their spread), the attackers'
  answers, and the server's RSS when idle and after the attacks (peak sampled too).

Targets: good p99 under attack < 50 ms; RSS within 100 MB of idle.

Run: .venv/bin/python bench/hostile_documents.py [--rounds 5] [--seconds 3] [--attackers 1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ZOO = BENCH.parent / "examples" / "zoo.yaml"
GOOD = ["{ __typename }", "{ models { name } }"]
REPEATED = "{" + " models { name }" * 5000 + "}"
DEEP = "{" + " models {" * 600 + " name" + " }" * 600 + "}"
ALIASES = "{" + "".join(f" a{i}: __typename" for i in range(1000)) + "}"
DEEP_JSON_VARIABLES = '{"v": ' + "[" * 50_000 + "]" * 50_000 + "}"
_serial = itertools.count()


def distinct_refused() -> str:
    """A ~99 KB document never sent before: parsed whole, then refused by validation."""
    n = next(_serial)
    return "{ " + " ".join(f"f{n}_{i}_" + "x" * 44 for i in range(99_000 // 56)) + " }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def rank(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * q) - 1)]


def hostile_requests() -> list[tuple[str, dict[str, Any]]]:
    """(kind, httpx.post keyword arguments) for one pass of the attack."""
    return [
        ("repeated-5000", {"json": {"query": REPEATED}}),
        ("distinct-99KB", {"json": {"query": distinct_refused()}}),
        ("distinct-99KB", {"json": {"query": distinct_refused()}}),
        ("deep-graphql", {"json": {"query": DEEP}}),
        ("aliases-1000", {"json": {"query": ALIASES}}),
        (
            "deep-json",
            {
                "content": '{"query": "{ __typename }", "variables": ' + DEEP_JSON_VARIABLES + "}",
                "headers": {"Content-Type": "application/json"},
            },
        ),
    ]


class Attack:
    """Attacker threads sending hostile documents while `running` is set."""

    def __init__(self, url: str, attackers: int) -> None:
        self.url = url
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.answers: Counter[str] = Counter()
        self.latencies: list[float] = []
        self._threads = [threading.Thread(target=self._attack, daemon=True) for _ in range(attackers)]
        for thread in self._threads:
            thread.start()

    def _attack(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            while not self.stopping.is_set():
                if not self.running.wait(0.05):
                    continue
                for kind, kwargs in hostile_requests():
                    started = time.perf_counter()
                    answer = client.post("/graphql", **kwargs)
                    self.latencies.append((time.perf_counter() - started) * 1000)
                    self.answers[f"{kind} {answer.status_code}"] += 1

    def close(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join()


def good_phase(client: httpx.Client, seconds: float) -> list[float]:
    """Round trips (ms) of the good requests, back to back for `seconds`."""
    samples = []
    deadline = time.monotonic() + seconds
    for query in itertools.cycle(GOOD):
        if time.monotonic() > deadline:
            return samples
        started = time.perf_counter()
        answer = client.post("/graphql", json={"query": query})
        samples.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text


def run(rounds: int, seconds: float, attackers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="zk-bench-hostile-") as tmp:
        folder = Path(tmp)
        port = free_port()
        log = open(folder / "server.log", "w")  # closed below, after the server
        args = [sys.executable, "-m", "ainimal_zookeeper.server", f"--port={port}", f"--data={folder / 'data'}"]
        server = subprocess.Popen(
            [*args, f"--config={ZOO}", "--log-level=warning"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=BENCH.parent,
            env=dict(os.environ),
        )
        url = f"http://127.0.0.1:{port}"
        try:
            client = httpx.Client(base_url=url, timeout=120)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((folder / "server.log").read_text())
                time.sleep(0.05)
            good_phase(client, 1.0)  # warm up: caches, allocator, thread pool
            idle = rss_mb(server.pid)
            attack = Attack(url, attackers)
            peak = idle
            phases: dict[str, list[dict[str, float]]] = {"quiet": [], "attack": []}
            try:
                for _ in range(rounds):
                    for phase in ("quiet", "attack"):
                        if phase == "attack":
                            attack.running.set()
                            time.sleep(0.2)  # the attack under way before measuring
                        samples = good_phase(client, seconds)
                        attack.running.clear()
                        peak = max(peak, rss_mb(server.pid))
                        phases[phase].append(
                            {"p50": statistics.median(samples), "p99": rank(samples, 0.99), "n": len(samples)}
                        )
                        time.sleep(0.3)  # the attackers' requests in flight finish
            finally:
                attack.close()
            after = rss_mb(server.pid)
            client.close()
        finally:
            server.terminate()
            server.wait(30)
            log.close()

    def summary(rows: list[dict[str, float]], key: str) -> dict[str, float]:
        values = [row[key] for row in rows]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    return {
        "rounds": rounds,
        "seconds_per_phase": seconds,
        "attackers": attackers,
        "good": {
            phase: {
                "p50_ms": summary(rows, "p50"),
                "p99_ms": summary(rows, "p99"),
                "requests": sum(r["n"] for r in rows),
            }
            for phase, rows in phases.items()
        },
        "hostile": {
            "answers": dict(sorted(attack.answers.items())),
            "p50_ms": statistics.median(attack.latencies) if attack.latencies else math.nan,
            "p99_ms": rank(attack.latencies, 0.99) if attack.latencies else math.nan,
        },
        "rss_mb": {"idle": idle, "peak": peak, "after": after, "growth": after - idle},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--attackers", type=int, default=1)
    options = parser.parse_args()
    result = run(options.rounds, options.seconds, options.attackers)
    print(json.dumps(result, indent=2))
    attack = result["good"]["attack"]["p99_ms"]["median"]
    growth = result["rss_mb"]["peak"] - result["rss_mb"]["idle"]
    print(
        f"good p99 under attack {attack:.1f} ms (target < 50), quiet {result['good']['quiet']['p99_ms']['median']:.1f} ms;"
        f" RSS idle {result['rss_mb']['idle']:.0f} MB, peak +{growth:.0f} MB (target < 100)"
    )


if __name__ == "__main__":
    main()
