"""Leave it running: the embedded server under hours of ordinary use, watched for decay.

The server (`python -m ainimal_zookeeper.server`, loopback only) runs long-lived instances,
paced and unpaced, torch and numpy, each with a telemetry stream read throughout, and one
`instanceEvents` stream of everything. Around them, in loops: launch/terminate churn,
SSE clients that come and go, takeovers opened and abandoned (realtime on a streamed
instance; lockstep on a churn instance), and recordings started and stopped.

Every `--sample-every` seconds it samples the server's and the workers' RSS, open fds and
threads, the number of processes under the server, and the frames each stream received.
At the end it prints the slope of each (per hour, fitted after the warm-up) and fails when:
- a long-lived stream received less than 90 % of its asked rate in any window
  (`--window`, a minute by default) or ended;
- the server's fds, threads or RSS, or the workers' count, grew over the run by more than a
  fixed allowance (a leak per launch or per stream shows as steady growth).

Run: .venv/bin/python bench/soak.py [--minutes 10] [--sample-every 10]
The test suite runs a short version with short leases (tests/e2e/test_soak.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from embedded import EmbeddedServer, cartpole_zoo, descendants

TELEMETRY = 'subscription($id: ID!, $hz: Float) { telemetry(id: $id, streams: ["reward"], maxHz: $hz) { step } }'
EVENTS = "subscription { instanceEvents { instance kind } }"
LAUNCH = "mutation($input: LaunchInput!) { launch(input: $input) { id status } }"
#: How much each figure may grow over a whole run before it counts as a leak.
ALLOWANCES = {
    "server_fds": 16,
    "server_threads": 8,
    "server_rss_mb": 64.0,
    "worker_processes": 2,
}


@dataclass
class SoakSettings:
    """What to run and for how long; the defaults are the documented soak."""

    minutes: float = 10.0
    sample_every: float = 10.0
    window: float = 60.0  # rate check window, seconds
    warm_up: float = 20.0  # seconds before growth is measured
    stream_hz: float = 10.0
    paced: int = 4  # long-lived instances at `pace` steps/s (when the server knows pacing)
    unpaced: int = 4
    pace: float = 50.0
    churn_every: float = 5.0
    flap_every: float = 2.0
    takeover_every: float = 15.0
    recording_every: float = 20.0
    worker_settings: dict[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None
    torch: bool = True


@dataclass
class Sample:
    at: float
    server_rss_mb: float
    server_fds: int
    server_threads: int
    worker_processes: int
    worker_rss_mb: float
    worker_fds: int
    worker_threads: int


@dataclass
class SoakReport:
    settings: SoakSettings
    samples: list[Sample]
    stream_windows: dict[str, list[float]]  # instance -> delivered share of the asked rate per window
    slopes: dict[str, float]  # per hour
    growth: dict[str, float]  # fitted over the measured span
    activity: dict[str, int]
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


# --- the server -------------------------------------------------------------------------


def zoo_yaml(settings: SoakSettings) -> str:
    models = [("Reinforce", "cartpole_reinforce.py", "ReinforceAgent")]
    if settings.torch:
        models.append(("TorchReinforce", "torch_policy.py", "TorchReinforceAgent"))
    return cartpole_zoo(settings.paced + settings.unpaced + 8, models, settings.worker_settings)


# --- streams and processes ------------------------------------------------------------


class StreamReader:
    """A subscription read on a thread; keeps the arrival time of every `next` event."""

    def __init__(self, url: str, query: str, variables: dict[str, Any]) -> None:
        self.arrivals: list[float] = []
        self.ended = False
        self.error: str | None = None
        self._client = httpx.Client(base_url=url, timeout=httpx.Timeout(60, read=None))
        self._body = {"query": query, "variables": variables}
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._client.stream(
                "POST", "/graphql", json=self._body, headers={"accept": "text/event-stream"}
            ) as response:
                for line in response.iter_lines():
                    if line.startswith("event: next"):
                        self.arrivals.append(time.monotonic())
                    elif line.startswith("event: complete"):
                        break
        except Exception as exc:  # noqa: BLE001  # recorded; a closed reader is not an error
            if not self._closing.is_set():
                self.error = f"{type(exc).__name__}: {exc}"
        self.ended = not self._closing.is_set()

    def close(self) -> None:
        self._closing.set()
        self._client.close()
        self._thread.join(1)


def _proc_status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def sample_processes(server_pid: int, at: float) -> Sample:
    """The server's and its descendants' memory, fds and threads now."""
    server = _proc_status(server_pid)
    rss, fds, threads, count = 0.0, 0, 0, 0
    for pid in descendants(server_pid):
        try:
            status = _proc_status(pid)
            if status.get("State", "").startswith("Z"):
                continue
            rss += int(status["VmRSS"].split()[0]) / 1024
            threads += int(status["Threads"])
            fds += len(os.listdir(f"/proc/{pid}/fd"))
            count += 1
        except (OSError, KeyError):
            continue  # ended between two looks
    return Sample(
        at=at,
        server_rss_mb=int(server["VmRSS"].split()[0]) / 1024,
        server_fds=len(os.listdir(f"/proc/{server_pid}/fd")),
        server_threads=int(server["Threads"]),
        worker_processes=count,
        worker_rss_mb=rss,
        worker_fds=fds,
        worker_threads=threads,
    )


# --- the soak -------------------------------------------------------------------------


class Soak:
    """One soak run: start, keep busy, sample, judge."""

    def __init__(self, settings: SoakSettings, folder: Path) -> None:
        self.settings = settings
        self.server = EmbeddedServer(folder, zoo_yaml(settings), settings.data_dir)
        self.stop = threading.Event()
        self.activity: dict[str, int] = {}
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def run(self) -> SoakReport:
        settings = self.settings
        paceable = self.server.knows("LaunchInput", "pace")
        long_lived = [
            self._launch(index, paced=index < settings.paced and paceable)
            for index in range(settings.paced + settings.unpaced)
        ]
        streams = {i: StreamReader(self.server.url, TELEMETRY, {"id": i, "hz": settings.stream_hz}) for i in long_lived}
        everything = StreamReader(self.server.url, EVENTS, {})
        loops = [
            self._loop("churn", settings.churn_every, self._churn),
            self._loop("sse_flaps", settings.flap_every, lambda: self._flap(long_lived)),
            self._loop("takeovers", settings.takeover_every, lambda: self._abandon_takeovers(long_lived)),
            self._loop("recordings", settings.recording_every, lambda: self._record(long_lived)),
        ]
        started = time.monotonic()
        samples: list[Sample] = []
        end = started + settings.minutes * 60
        try:
            while time.monotonic() < end:
                samples.append(sample_processes(self.server.process.pid, time.monotonic() - started))
                self._print_sample(samples[-1], streams, started)
                self.stop.wait(min(settings.sample_every, max(0.0, end - time.monotonic())))
            samples.append(sample_processes(self.server.process.pid, time.monotonic() - started))
        finally:
            self.stop.set()
            for thread in loops:
                thread.join(30)
            finished = time.monotonic()
            for reader in [*streams.values(), everything]:
                reader.close()
        windows = {i: self._stream_windows(reader, finished) for i, reader in streams.items()}
        self._check_takeovers_released(long_lived)
        ended = [i for i, reader in streams.items() if reader.ended or reader.error]
        report = self._judge(samples, windows, ended)
        code = self.server.stop()
        if code != 0:
            report.failures.append(f"the server exited with {code}")
        return report

    # activities

    def _launch(self, index: int, paced: bool, mode: str = "INFER") -> str:
        model = "TorchReinforce" if self.settings.torch and index % 2 else "Reinforce"
        launch: dict[str, Any] = {"model": model, "environment": "CartPole", "mode": mode}
        if paced:
            launch["pace"] = self.settings.pace
        instance = self.server.gql(LAUNCH, {"input": launch})["launch"]
        return str(instance["id"])

    def _loop(self, name: str, every: float, action: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            while not self.stop.wait(every * random.uniform(0.5, 1.5)):
                try:
                    action()
                    with self._lock:
                        self.activity[name] = self.activity.get(name, 0) + 1
                except Exception as exc:  # noqa: BLE001  # counted; the soak goes on
                    with self._lock:
                        self.errors.append(f"{name}: {exc}")

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def _churn(self) -> None:
        instance = self._launch(random.randrange(2), paced=False)
        if random.random() < 0.5 and self._has_status(instance, "RUNNING"):
            # A lockstep takeover nobody drives: the instance must not freeze for good.
            self._override(instance, "lockstep")
        self.stop.wait(0.5)
        self.server.gql("mutation($id: ID!) { terminate(id: $id) { status } }", {"id": instance})

    def _flap(self, instances: list[str]) -> None:
        reader = StreamReader(self.server.url, TELEMETRY, {"id": random.choice(instances), "hz": 30.0})
        self.stop.wait(random.uniform(0.2, 2.0))
        reader.close()

    def _abandon_takeovers(self, instances: list[str]) -> None:
        instance = random.choice(instances)
        self._override(instance, "realtime")
        for _ in range(5):
            self.server.gql("mutation($id: ID!) { act(id: $id, value: 1) }", {"id": instance})
            self.stop.wait(0.1)
        # ...and the person goes away without clearing it.

    def _override(self, instance: str, takeover: str) -> None:
        query = "mutation($id: ID!, $input: OverrideInput!) { override(id: $id, input: $input) { id } }"
        self.server.gql(
            query, {"id": instance, "input": {"target": "outputs/action", "value": 0, "takeover": takeover}}
        )

    def _record(self, instances: list[str]) -> None:
        instance = random.choice(instances)
        recording = self.server.gql("mutation($id: ID!) { startRecording(id: $id) { id } }", {"id": instance})
        self.stop.wait(random.uniform(1.0, 3.0))
        query = "mutation($r: ID!) { stopRecording(recording: $r) { id } }"
        self.server.gql(query, {"r": recording["startRecording"]["id"]})

    def _has_status(self, instance: str, status: str) -> bool:
        found = self.server.gql("query($id: ID!) { instance(id: $id) { status } }", {"id": instance})["instance"]
        return bool(found and found["status"] == status)

    # judging

    def _check_takeovers_released(self, instances: list[str]) -> None:
        """Every abandoned takeover has gone back to its AInimal once its hold ran out."""
        hold = float(self.settings.worker_settings.get("takeover_hold_seconds", 5.0))
        time.sleep(hold + 1.5)
        query = "query($id: ID!) { instance(id: $id) { overrides { id active } } }"
        for instance in instances:
            found = self.server.gql(query, {"id": instance})["instance"] or {}
            held = [o["id"] for o in found.get("overrides") or [] if o.get("active")]
            if held:
                self.errors.append(f"instance {instance} still has {len(held)} abandoned takeover(s) in force")

    def _stream_windows(self, reader: StreamReader, finished: float) -> list[float]:
        if not reader.arrivals:
            return [0.0]
        window, asked = self.settings.window, self.settings.stream_hz
        shares, start = [], reader.arrivals[0]
        while start + window <= finished:
            count = sum(1 for at in reader.arrivals if start <= at < start + window)
            shares.append(count / (window * asked))
            start += window
        return shares

    def _judge(self, samples: list[Sample], windows: dict[str, list[float]], ended: list[str]) -> SoakReport:
        measured = [s for s in samples if s.at >= self.settings.warm_up] or samples
        span = (measured[-1].at - measured[0].at) if len(measured) > 1 else 0.0
        slopes, growth = {}, {}
        for name in (
            "server_rss_mb",
            "server_fds",
            "server_threads",
            "worker_processes",
            "worker_rss_mb",
            "worker_fds",
            "worker_threads",
        ):
            slope = _slope([(s.at, float(getattr(s, name))) for s in measured])
            slopes[name] = slope * 3600
            growth[name] = slope * span
        failures = [
            f"{name} grew by {growth[name]:.1f} (allowed {limit})"
            for name, limit in ALLOWANCES.items()
            if growth[name] > limit
        ]
        for instance, shares in windows.items():
            low = [share for share in shares if share < 0.9]
            if low:
                failures.append(f"stream of {instance}: {min(low):.0%} of its rate in a window")
        failures += [f"stream of {instance} ended or failed" for instance in ended]
        failures += self.errors[:20]
        return SoakReport(self.settings, samples, windows, slopes, growth, dict(self.activity), failures)

    def _print_sample(self, sample: Sample, streams: dict[str, StreamReader], started: float) -> None:
        now = time.monotonic()
        recent = [sum(1 for at in r.arrivals if at >= now - self.settings.sample_every) for r in streams.values()]
        rates = [count / self.settings.sample_every for count in recent]
        print(
            f"{sample.at:7.0f}s server rss {sample.server_rss_mb:6.1f} MB fds {sample.server_fds:4d} "
            f"threads {sample.server_threads:3d} | workers {sample.worker_processes:3d} "
            f"rss {sample.worker_rss_mb:7.1f} MB fds {sample.worker_fds:5d} | "
            f"frames/s min {min(rates, default=0):.1f} median {statistics.median(rates) if rates else 0:.1f}",
            flush=True,
        )


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 for fewer than two points)."""
    if len(points) < 2:
        return 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def run_soak(settings: SoakSettings) -> SoakReport:
    with tempfile.TemporaryDirectory(prefix="zk-soak-") as folder:
        soak = Soak(settings, Path(folder))
        try:
            return soak.run()
        finally:
            soak.server.stop()  # also on Ctrl-C: no server left behind (a second stop is a no-op)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=60.0)
    arguments = parser.parse_args()
    report = run_soak(
        SoakSettings(minutes=arguments.minutes, sample_every=arguments.sample_every, window=arguments.window)
    )
    print("\nslopes per hour:", json.dumps({k: round(v, 2) for k, v in report.slopes.items()}))
    print("growth over the run:", json.dumps({k: round(v, 2) for k, v in report.growth.items()}))
    worst = {i: round(min(shares), 3) for i, shares in report.stream_windows.items()}
    print("worst window per stream (share of the asked rate):", json.dumps(worst))
    print("activity:", json.dumps(report.activity))
    if report.failures:
        print("FAILED:\n  " + "\n  ".join(report.failures))
        return 1
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
