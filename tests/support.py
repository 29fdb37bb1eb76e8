"""Helpers the tests share: run the real server as a process and talk GraphQL to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GraphQLError(AssertionError):
    """A GraphQL response carried errors where the test expected none."""


class ServerProcess:
    """`python -m ainimal_zookeeper.server` in a subprocess, with a GraphQL client."""

    def __init__(
        self, config: Path | None, data_dir: Path, port: int | None = None, extra: list[str] | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "ainimal_zookeeper.server", "--port", str(self.port), "--data", str(data_dir)]
        if config is not None:
            args += ["--config", str(config)]
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # closed in stop()
        self.process = subprocess.Popen(args + (extra or []), stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)
        self.http = httpx.Client(base_url=self.url, timeout=60)
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        """What the server printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        """POST a GraphQL request, returning the raw response."""
        return self.http.post("/graphql", json={"query": query, "variables": variables or {}})

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request; its data, or GraphQLError when it has errors."""
        body = self.post(query, variables).json()
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return body["data"]

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """POST a request that must fail; its errors."""
        body = self.post(query, variables).json()
        assert body.get("errors"), f"expected errors, got {body}"
        return body["errors"]

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        """Stop the server (Ctrl-C by default) and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.http.close()
        self._log.close()
        return int(self.process.returncode)


def wait_for(probe: Callable[[], Any], timeout: float = 20, interval: float = 0.05, what: str = "condition") -> Any:
    """Call `probe` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")
