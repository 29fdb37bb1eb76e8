"""What the API shows of the `launch_etc` commands: each one as configured, and whether it runs.

The processes themselves are the entry point's (`server/side_processes.py` starts and stops
them); it attaches itself here as the source of their states, so the service never holds a
process handle and a server without side processes simply lists none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ainimal_zookeeper.domain.access import Resource, Viewer
from ainimal_zookeeper.ports.authorization import Authorizer, authorize

__all__ = ["SideProcessBoard", "SideProcessSource", "SideProcessState", "SideProcessStatus"]

#: RUNNING: started and not ended; EXITED: ended by itself (see exit_code); NOT_STARTED: could
#: not be started (the shell could not be run); STOPPED: ended because the server stopped it.
SideProcessStatus = Literal["RUNNING", "EXITED", "NOT_STARTED", "STOPPED"]

#: Only who may manage the server sees its side processes: their commands name hosts, ports
#: and files of the machine (admins; everyone on a server running open).
SERVER = Resource("server")


@dataclass(frozen=True)
class SideProcessState:
    """One `launch_etc` command: its text as configured (`${env.X}` not filled in) and its state."""

    cmd: str
    status: SideProcessStatus
    #: The exit code once it ended (negative: killed by that signal); None while it runs.
    exit_code: int | None = None


class SideProcessSource(Protocol):
    """Whatever runs the side processes and can say how they are."""

    def states(self) -> Sequence[SideProcessState]:
        """Each configured command's state, in the config's order."""
        ...


class SideProcessBoard:
    """The side processes as the API lists them, for admins only."""

    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer
        self._source: SideProcessSource | None = None

    def attach(self, source: SideProcessSource) -> None:
        """Report the states of `source` from now on (the server calls this once it starts them)."""
        self._source = source

    def list_for(self, viewer: Viewer) -> list[dict[str, Any]]:
        """Each side process as the API's `SideProcess` (Forbidden unless `viewer` may manage the server)."""
        authorize(self._authorizer, viewer, "manage", SERVER)
        if self._source is None:
            return []
        return [
            {"cmd": state.cmd, "status": state.status, "exitCode": state.exit_code} for state in self._source.states()
        ]
