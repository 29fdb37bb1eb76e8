"""The composition root: the only place that picks adapters and wires them to the core.

`build_control_plane` assembles the server from a config (local adapters by default, Google
Cloud ones where `backends` says so); `worker_ports` gives a worker the adapters its spec's
`connection` names. Nothing connects to anything at import time.
"""

from ainimal_zookeeper.bootstrap.access import Access, build_access
from ainimal_zookeeper.bootstrap.control_plane import ControlPlane, build_control_plane
from ainimal_zookeeper.bootstrap.ports import ControlPlanePorts, control_plane_ports, worker_ports

#: The name the embedded server has always used.
build_embedded = build_control_plane

__all__ = [
    "Access",
    "ControlPlane",
    "ControlPlanePorts",
    "build_access",
    "build_control_plane",
    "build_embedded",
    "control_plane_ports",
    "worker_ports",
]
