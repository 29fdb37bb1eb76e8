"""Helpers the tests share: run the real server as a process and talk GraphQL to it."""

from __future__ import annotations

import json
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


#: Ports a test server is tried on before its start counts as failed.
PORT_ATTEMPTS = 3


class PortTaken(RuntimeError):
    """The server could not listen: something else took its port first."""


def _with_port(arg: str, old: str, new: str) -> str:
    """`arg` with the port `old` replaced (`4321`, `--port=4321`), else unchanged."""
    if arg == old:
        return new
    return arg[: -len(old)] + new if arg.endswith(f"={old}") else arg


class GraphQLError(AssertionError):
    """A GraphQL response carried errors where the test expected none."""


class ServerProcess:
    """`python -m ainimal_zookeeper.server` in a subprocess, with a GraphQL client."""

    #: Where GraphQL is served, and a GET that answers once the server is up.
    graphql_path = "/graphql"
    ready_path = "/healthz"

    def __init__(
        self, config: Path | None, data_dir: Path, port: int | None = None, extra: list[str] | None = None
    ) -> None:
        self.port = port or free_port()
        args = [sys.executable, "-m", "ainimal_zookeeper.server", "--port", str(self.port), "--data", str(data_dir)]
        if config is not None:
            args += ["--config", str(config)]
        self._launch(args + (extra or []), data_dir.parent, dict(os.environ), another_port=port is None)

    def _launch(self, args: list[str], log_dir: Path, env: dict[str, str], another_port: bool = False) -> None:
        """Start `args` (which serve on `self.port`) and wait until they answer.

        `another_port`: the port was picked by `free_port`, so when something else took it
        before the server bound it (a race with every other test picking ports), try again on
        another one, rewriting the port in `args`.
        """
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._start(args, log_dir, env)
                return
            except PortTaken:
                if not another_port or attempt == PORT_ATTEMPTS:
                    raise
                old, self.port = str(self.port), free_port()
                args = [_with_port(arg, old, str(self.port)) for arg in args]

    def _start(self, args: list[str], log_dir: Path, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{self.port}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # closed in stop()
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        # What a client following GraphQL over HTTP sends (request errors are then 4xx).
        accept = "application/graphql-response+json, application/json;q=0.9"
        self.http = httpx.Client(base_url=self.url, timeout=60, headers={"Accept": accept})
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop(signal.SIGKILL, timeout=10)  # closes the log and the client too
            raise

    def _wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log()
                failure = PortTaken if "already in use" in log else RuntimeError
                raise failure(f"server exited with {self.process.returncode}:\n{log}")
            try:
                # A short timeout: whatever else holds the port may accept and never answer.
                if self.http.get(self.ready_path, timeout=2).status_code == 200:
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
        return self.http.post(self.graphql_path, json={"query": query, "variables": variables or {}})

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


class FunctionProcess(ServerProcess):
    """functions/main.py under the real functions-framework server (the Cloud Function)."""

    graphql_path = "/"
    ready_path = "/?query=%7B__typename%7D"

    def __init__(self, config: Path, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        binary = Path(sys.executable).parent / "functions-framework"
        args = [str(binary), "--target=graphql", f"--source={REPO / 'functions' / 'main.py'}", f"--port={self.port}"]
        variables = {**os.environ, **(env or {}), "ZK_CONFIG": str(config), "ZK_DATA_DIR": str(data_dir)}
        self._launch(args, data_dir.parent, variables, another_port=True)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """functions-framework stops on SIGTERM, as Cloud Run stops it."""
        return super().stop(sig, timeout)


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
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped between the two looks
        return False


class SseStream:
    """An open GraphQL subscription over Server-Sent Events; iterate for payloads of `field`."""

    def __init__(self, server: ServerProcess, query: str, variables: dict[str, Any], field: str) -> None:
        self.field = field
        body = {"query": query, "variables": variables}
        self._context = server.http.stream(
            "POST", server.graphql_path, json=body, headers={"accept": "text/event-stream"}, timeout=60
        )
        self.response = self._context.__enter__()
        assert self.response.status_code == 200, self.response.read()
        self._lines = self.response.iter_lines()

    def next(self) -> dict[str, Any]:
        """The next payload (blocks until the server sends one)."""
        for line in self._lines:
            if line.startswith("data: "):
                message = json.loads(line[len("data: ") :])
                if message.get("errors"):
                    raise GraphQLError(message["errors"])
                return dict(message["data"][self.field])
        raise AssertionError("the event stream ended")

    def take(self, count: int) -> list[dict[str, Any]]:
        return [self.next() for _ in range(count)]

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def __enter__(self) -> SseStream:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def launch_running(server: ServerProcess, launch_input: dict[str, Any], fields: str = "id status") -> dict[str, Any]:
    """Launch through the API and return the instance once RUNNING (`fields` must include id and status).

    On a busy machine a worker may take longer to start than `launch` waits; it then answers
    STARTING, and this waits on.
    """
    query = f"mutation($input: LaunchInput!) {{ launch(input: $input) {{ {fields} }} }}"
    instance = server.gql(query, {"input": launch_input})["launch"]
    if instance["status"] == "STARTING":
        lookup = f'{{ instance(id: "{instance["id"]}") {{ {fields} }} }}'
        instance = wait_for(
            lambda: (i := server.gql(lookup)["instance"])["status"] != "STARTING" and i,
            timeout=60,
            what="the worker starting",
        )
    assert instance["status"] == "RUNNING", instance
    return instance


def terminate(server: ServerProcess, instance_id: str) -> None:
    """Terminate an instance through the API."""
    server.gql(f'mutation {{ terminate(id: "{instance_id}") {{ status }} }}')
