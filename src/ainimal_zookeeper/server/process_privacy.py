"""Keep the server's memory and environment from other processes of its user (model code included).

Workers run model code as the server's user, and a process may read `/proc/<pid>/environ`
(the secrets the server was started with, e.g. ZK_JWT_SECRET) and, where ptrace is allowed,
the memory of any other process of its user. A process marked not dumpable
(`PR_SET_DUMPABLE` 0, Linux) is exempt: its `/proc/<pid>/` files belong to root and ptrace
needs CAP_SYS_PTRACE. The mark is dropped on exec, so the fork server and workers, which are
executed afresh, are not affected; it also turns off core dumps and profilers that attach
(py-spy, gdb) to the server, which `server.inspectable: true` brings back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

__all__ = ["hide_process"]

log = logging.getLogger(__name__)

_PR_SET_DUMPABLE = 4


def hide_process() -> bool:
    """Mark this process not dumpable; False (with a warning) where that is not possible."""
    if not sys.platform.startswith("linux"):
        log.warning("the server's environment and memory stay readable by its user's processes on %s", sys.platform)
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("could not hide the server's environment and memory (prctl errno %d)", ctypes.get_errno())
        return False
    return True
