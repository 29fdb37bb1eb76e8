"""Check the address is free before building anything, so a busy port fails fast and clearly."""

from __future__ import annotations

import errno
import socket


class PortBusy(Exception):
    """The port is taken; the message says by what means to choose another."""


def check_port_free(host: str, port: int) -> None:
    """Raise `PortBusy` with a clear message if nothing can listen on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortBusy(
                    f"port {port} on {host} is already in use (another zookeeper?); stop it or pass --port"
                ) from exc
            raise PortBusy(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
