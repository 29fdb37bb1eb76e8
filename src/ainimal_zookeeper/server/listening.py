"""Where to listen: `PORT` from the environment, and a check that the address is free before
building anything, so a busy port fails fast and clearly."""

from __future__ import annotations

import errno
import socket
from collections.abc import Mapping

from ainimal_zookeeper.errors import ConfigError


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


#: Where platforms (Cloud Run, Heroku, ...) tell a web server which port to listen on.
PORT_VARIABLE = "PORT"


def port_from_environment(environ: Mapping[str, str]) -> int | None:
    """The port `PORT` names, None when it is unset or empty.

    Raises:
        ConfigError: `PORT` is set to something that is not a port number.
    """
    text = environ.get(PORT_VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ConfigError(
            f"the {PORT_VARIABLE} environment variable must be a port number (1-65535); got {text!r}: "
            f"fix or unset it, or pass --port"
        )
    return int(text)
