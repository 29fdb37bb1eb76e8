"""The embedded server in a subprocess, for the benchmarks that drive it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cartpole_zoo(max_models: int, models: list[tuple[str, str, str]], workers: dict[str, Any] | None = None) -> str:
    """A zoo of CartPole and `models` (name, example file, class), open on loopback."""
    # inspectable: the benchmarks read the server's /proc entries (fds, threads), which a hidden
    # server keeps from other processes of its user.
    lines = ["no_auth: true", "server: {inspectable: true}", f"max_models: {max_models}"]
    settings = "".join(f"\n  {key}: {value}" for key, value in (workers or {}).items())
    lines += [f"workers:{settings or ' {}'}", "envs:", "  - name: CartPole", "    type: gymnasium"]
    lines += ["    env_name: CartPole-v1", "models:"]
    for name, file, class_name in models:
        lines += [
            f"  - name: {name}",
            "    type: ainimal",
            f"    path: {EXAMPLES / file}",
            f"    class_name: {class_name}",
        ]
    return "\n".join([*lines, ""])


class EmbeddedServer:
    """`python -m ainimal_zookeeper.server` with `config_text`, its data and log in `folder`."""

    def __init__(self, folder: Path, config_text: str, data_dir: Path | None = None) -> None:
        config = folder / "zoo.yaml"
        config.write_text(config_text)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "server.log"
        self._log = open(self.log_path, "w")  # closed in stop()
        args = [sys.executable, "-m", "ainimal_zookeeper.server", "--port", str(self.port)]
        args += ["--data", str(data_dir or folder / "data"), "--config", str(config)]
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)
        self.http = httpx.Client(base_url=self.url, timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start:\n{self.log_path.read_text()}")
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not answer within 60 s")

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.http.post("/graphql", json={"query": query, "variables": variables or {}}).json()
        if body.get("errors"):
            raise RuntimeError(json.dumps(body["errors"])[:500])
        return dict(body["data"])

    def knows(self, type_name: str, field_name: str) -> bool:
        """Whether the served schema has `type_name.field_name` (fields or input fields)."""
        query = "query($t: String!) { __type(name: $t) { fields { name } inputFields { name } } }"
        found = self.gql(query, {"t": type_name})["__type"] or {}
        names = {f["name"] for f in (found.get("fields") or []) + (found.get("inputFields") or [])}
        return field_name in names

    def stop(self) -> int:
        """SIGINT, then kill after 60 s; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.http.close()
        self._log.close()
        return int(self.process.returncode)


def descendants(root: int) -> list[int]:
    """Every process under `root`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far (those that ended are skipped)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total
