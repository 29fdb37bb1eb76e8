"""Tie a process's life to its server's, so no worker outlives the server that started it.

Two mechanisms, because each misses a case of the other:

* `die_with_parent` asks Linux (prctl PR_SET_PDEATHSIG) to SIGKILL this process when its
  parent ends. It works however stuck the process is (even in C code holding the GIL), but
  only on Linux, and only for the direct parent: a worker's parent is the fork server.
* `watch_server` runs a daemon thread that blocks on a pipe the server holds open and kills
  this process when it reads end-of-file (the server is gone, however it died). A worker
  stuck in pure Python still lets a daemon thread run (the interpreter switches threads
  every few milliseconds).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None) -> bool:
    """Have the kernel SIGKILL this process when its parent ends; False where unsupported.

    `expected_parent`: the parent this process was started by. If it is already gone (the
    process was adopted by init or a subreaper before the request was made), the process
    ends now, as the kernel would have ended it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
            return False
    except (OSError, AttributeError):  # no libc or no prctl: the watch thread still works
        return False
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)  # the parent ended before the request took effect
    return True


def watch_server(sentinel: int, grace: float = 2.0, on_gone: Callable[[], None] | None = None) -> threading.Thread:
    """Kill this process (or call `on_gone`) `grace` seconds after `sentinel` (a pipe the server
    holds open) reads end-of-file.

    The grace lets a worker that is not stuck notice by itself and stop cleanly. The thread
    only blocks in system calls, so it costs nothing while the server lives.
    """

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        time.sleep(grace)
        if on_gone is not None:
            on_gone()
            return
        # Still here: nobody can reach this worker, and it is stuck (in user code, say).
        os.kill(os.getpid(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="zk-server-watch", daemon=True)
    thread.start()
    return thread
