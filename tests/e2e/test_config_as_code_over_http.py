"""What users run: `Server(...).run()` on PORT, launch_etc with .env.local and reported exits, and
https from a certificate and key, each over a real connection to a real server process."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tls_support import self_signed

from support import REPO, free_port, wait_for

ACCEPT = {"Accept": "application/graphql-response+json, application/json;q=0.9"}
QUERY = "{ environments { name } sideProcesses { cmd status exitCode } }"


class Started:
    """A server process started by the test, its output in a file, stopped like Ctrl-C / SIGTERM."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        env: dict[str, str],
        url: str,
        verify: ssl.SSLContext | bool,
        log_dir: Path | None = None,
    ) -> None:
        self.log_path = (log_dir or cwd) / "server.log"  # never inside the repository
        self._log = open(self.log_path, "w")  # closed in stop()
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=cwd, env=env)
        self.http = httpx.Client(base_url=url, timeout=30, headers=ACCEPT, verify=verify)
        wait_for(self._ready, timeout=60, what="the server answering")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log()}")
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def gql(self, query: str) -> dict:
        body = self.http.post("/graphql", json={"query": query}).json()
        assert not body.get("errors"), body
        return body["data"]

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.http.close()
        self._log.close()
        return int(self.process.returncode)


def test_server_run_serves_on_port_and_reports_a_side_process_that_exits(tmp_path):
    folder, cwd = tmp_path / "zoo", tmp_path / "cwd"
    folder.mkdir()
    cwd.mkdir()
    (folder / ".env.local").write_text("ROS_PORT=11311\nZK_JWT_SECRET=" + "j" * 40 + "\n")
    seen = tmp_path / "ros.txt"
    exits = f'echo "ros=$ROS_PORT secret=$ZK_JWT_SECRET" > {seen}; exit 3'
    script = cwd / "run_zoo.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys

            from ainimal_zookeeper import GymEnvironment, Server

            server = Server(
                no_auth=True,
                data_dir={str(tmp_path / "data")!r},
                environments=[GymEnvironment("CartPole", "CartPole-v1")],
                launch_etc=[{exits!r}, "sleep 600"],
                base_dir={str(folder)!r},
            )
            sys.exit(server.run())
            """
        )
    )
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    env.pop("ROS_PORT", None)
    server = Started([sys.executable, str(script)], cwd, env, f"http://127.0.0.1:{port}", verify=False)
    try:
        answer = wait_for(
            lambda: (data := server.gql(QUERY))["sideProcesses"][0]["status"] == "EXITED" and data,
            what="the first side process to be reported as exited",
        )
        assert answer["environments"] == [{"name": "CartPole"}]
        assert answer["sideProcesses"] == [
            {"cmd": exits, "status": "EXITED", "exitCode": 3},
            {"cmd": "sleep 600", "status": "RUNNING", "exitCode": None},
        ]
        assert seen.read_text() == "ros=11311 secret=\n"  # .env.local, but never the server's secrets
        assert f"serving GraphQL at http://localhost:{port}/graphql" in server.log()
        assert "runs OPEN (no_auth: true)" in server.log()  # said from Python as from the command line
    finally:
        code = server.stop()
    assert code == 0, server.log()
    assert f"launch_etc: {exits!r} exited with code 3" in server.log()


def test_https_serves_tls_from_the_configured_certificate_and_key(tmp_path):
    cert, _key = self_signed(tmp_path)
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\nserver: {https: true, ssl_certfile: cert.pem, ssl_keyfile: key.pem}\n")
    port = free_port()
    args = [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(config), "--port", str(port)]
    args += ["--data", str(tmp_path / "data")]
    trusted = ssl.create_default_context(cafile=str(cert))
    server = Started(args, REPO, dict(os.environ), f"https://127.0.0.1:{port}", verify=trusted, log_dir=tmp_path)
    try:
        assert server.gql("{ __typename }") == {"__typename": "Query"}
        with pytest.raises(httpx.TransportError):  # plain HTTP gets no answer from a TLS port
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # nor does a client not trusting it
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=10)
        assert f"serving GraphQL at https://localhost:{port}/graphql" in server.log()
    finally:
        assert server.stop() == 0, server.log()


def test_a_certificate_that_cannot_serve_stops_the_start_with_the_keys_to_fix(tmp_path):
    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\nserver: {https: true, ssl_certfile: cert.pem, ssl_keyfile: key.pem}\n")
    args = [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(config), "--port", str(free_port())]
    result = subprocess.run(args + ["--data", str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "server.ssl_certfile" in result.stderr and "cannot serve TLS" in result.stderr


def test_the_command_line_listens_on_port_when_no_port_flag_is_given(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\nserver: {port: 1}\n")  # PORT wins over server.port
    port = free_port()
    args = [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(config), "--data", str(tmp_path / "d")]
    server = Started(args, tmp_path, {**os.environ, "PORT": str(port)}, f"http://127.0.0.1:{port}", verify=False)
    try:
        assert server.gql("{ __typename }") == {"__typename": "Query"}
    finally:
        assert server.stop() == 0, server.log()
