"""The environment local workers get: an allow-list, never the server's whole environment.

The server's environment holds its secrets (ZK_JWT_SECRET, ZK_ADMIN_PASSWORD, OAuth client
secrets) and whatever else the operator's shell exported (cloud keys, tokens). Model code
runs in the workers, and `/proc/<pid>/environ` shows a process's environment as it was when
the process was executed, to every process of the same user. So the fork server (which the
workers are forked from, and which they can read) is *executed* with only what workers need
to run and reach their ports; changing `os.environ` afterwards would not change what
`/proc` shows.

Operators add names with `workers.environment` (config); nothing else passes.
"""

from __future__ import annotations

import atexit
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import multiprocessing.util
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["ALLOWED_NAMES", "ALLOWED_PREFIXES", "spawn_fork_server_with", "worker_environment"]

#: Variables a worker needs to run: finding programs and libraries, locale and time, temporary
#: files, thread pools, GPUs, model caches, headless rendering, and the cloud emulators'
#: addresses (when the ports run on emulators). None of them signs in anywhere.
ALLOWED_NAMES = frozenset(
    {
        # process basics
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "TERM",
        "LD_LIBRARY_PATH",
        # Python
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONHASHSEED",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONWARNINGS",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        # thread pools (set by the compute provider before the fork server starts)
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        # GPUs
        "CUDA_VISIBLE_DEVICES",
        "CUDA_HOME",
        "CUDA_PATH",
        "NVIDIA_VISIBLE_DEVICES",
        "PYTORCH_CUDA_ALLOC_CONF",
        # model and data caches
        "HF_HOME",
        "HF_HUB_CACHE",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_CACHE",
        "TORCH_HOME",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_RUNTIME_DIR",
        "MPLCONFIGDIR",
        "MPLBACKEND",
        # headless rendering of environments
        "DISPLAY",
        "MUJOCO_GL",
        "PYOPENGL_PLATFORM",
        "SDL_VIDEODRIVER",
        "SDL_AUDIODRIVER",
        # the cloud ports' emulators and project (addresses and names, not credentials)
        "FIRESTORE_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "STORAGE_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        # ties the fork server to its server (fork_server_guard.py)
        "ZK_FORK_SERVER_PARENT",
    }
)
#: Families of harmless variables: locale categories.
ALLOWED_PREFIXES = ("LC_",)
#: What a worker needs to reach Pub/Sub or Cloud Storage for real (not on emulators): a
#: credentials file and the gcloud config folder. Passed only when the connection uses them.
GCP_CREDENTIAL_NAMES = ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG")


def worker_environment(
    environ: Mapping[str, str], extra: Iterable[str] = (), cloud_credentials: bool = False
) -> dict[str, str]:
    """The allow-listed part of `environ`, plus the `extra` names the operator passes on purpose."""
    wanted = set(ALLOWED_NAMES).union(extra)
    if cloud_credentials:
        wanted.update(GCP_CREDENTIAL_NAMES)
    return {name: value for name, value in environ.items() if name in wanted or name.startswith(ALLOWED_PREFIXES)}


#: The processes started here are waited for by the multiprocessing module itself (os.waitpid
#: on the pid): their Popen objects are kept for the process's life (one fork server and one
#: resource tracker, or a few when restarted) so that subprocess never reaps them behind its back.
_KEPT: list[subprocess.Popen[bytes]] = []
_KEPT_LOCK = threading.Lock()


@atexit.register
def _release_kept() -> None:
    """Let the kept Popen objects go quietly at exit: the fork server and resource tracker end
    with this process (they watch a pipe it holds), so "still running" is expected then, and
    subprocess's ResourceWarning about it was noise at the end of every run. Nothing waits."""
    with _KEPT_LOCK:
        for process in _KEPT:
            if process.returncode is None:
                process.returncode = 0  # never read: multiprocessing waits on the pid itself
        _KEPT.clear()


class _SpawnWithEnvironment(ModuleType):
    """Stands in for `multiprocessing.util` inside the forkserver and resource tracker modules.

    Both start their process with `util.spawnv_passfds(exe, args, fds)`, which executes it with
    the server's environment; this one executes it with the given environment instead, and
    passes every other attribute through to the real module.
    """

    def __init__(self, environment: Callable[[], dict[str, str]]) -> None:
        super().__init__("multiprocessing.util")
        self.environment = environment

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing.util, name)

    def spawnv_passfds(self, path: str, args: list[str], passfds: Iterable[int]) -> int:
        """Execute `args` with `passfds` kept open and the chosen environment; the child's pid."""
        process = subprocess.Popen(
            args, executable=path, pass_fds=tuple(sorted(passfds)), env=self.environment(), close_fds=True
        )
        with _KEPT_LOCK:
            _KEPT.append(process)
        return process.pid


def spawn_fork_server_with(environment: Callable[[], dict[str, str]]) -> None:
    """From now on, start the fork server (and its resource tracker) with what `environment()` gives."""
    stand_in = _SpawnWithEnvironment(environment)
    # Module attributes, looked up at each call: only these two modules' spawns change.
    multiprocessing.forkserver.util = stand_in  # type: ignore[attr-defined]
    multiprocessing.resource_tracker.util = stand_in  # type: ignore[attr-defined]
