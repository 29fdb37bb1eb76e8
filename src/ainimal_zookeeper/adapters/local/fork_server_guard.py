"""Imported first in the fork server: it dies with the server that started it.

The fork server is started by `LocalProcessCompute` from a thread that lives as long as the
server process (PR_SET_PDEATHSIG fires when the creating *thread* ends), with the server's
pid in `ZK_FORK_SERVER_PARENT`. Its workers in turn die with the fork server
(`lifeline.py`), so a `kill -9` of the server leaves nothing running. In any other
process importing this module does nothing.
"""

from __future__ import annotations

import os

from ainimal_zookeeper.adapters.local.lifeline import die_with_parent

#: The environment variable naming the server a fork server belongs to.
PARENT_VARIABLE = "ZK_FORK_SERVER_PARENT"


def guard() -> bool:
    """Tie this process to its parent if it is a fork server the zookeeper started."""
    expected = os.environ.get(PARENT_VARIABLE)
    if not expected or not expected.isdigit():
        return False
    if os.getppid() != int(expected):
        # Not a fork server of that server (the variable was inherited by something else), or
        # its server is already gone; the latter ends when its last client does.
        return False
    return die_with_parent(int(expected))


guard()
