"""`python -m ainimal_zookeeper.client`: serve the web client on its own, reachable from the LAN.

The page asks for the server's address on its Connect screen (or takes `--server`). A server on
another origin must allow this page's origin (CORS); a server started with `--client` serves
the same client itself, on its own origin, and needs nothing else.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn

from ainimal_zookeeper.client.page import client_app, is_built


def _lan_address() -> str:
    """The address other devices on the LAN likely reach this machine by."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, the route picks the interface
            return str(probe.getsockname()[0])
    except OSError:
        try:
            return socket.gethostbyname(socket.gethostname())
        except OSError:
            return "127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; `--help` explains each flag."""
    parser = argparse.ArgumentParser(
        prog="python -m ainimal_zookeeper.client", description="Serve the AInimal Zookeeper web client."
    )
    parser.add_argument(
        "--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0: reachable from the LAN)"
    )
    parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    parser.add_argument(
        "--server", help="the zookeeper server's URL to connect to (default: ask on the Connect screen)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve the client until interrupted."""
    args = parse_args(argv)
    if not is_built():
        print("warning: the web client is not built: run `make client` (Node.js 20.19+)", file=sys.stderr)
    shown = _lan_address() if args.host == "0.0.0.0" else args.host
    print(f"AInimal Zookeeper client at http://{shown}:{args.port}/ (enter your server's URL there)", flush=True)
    app = client_app(args.server.rstrip("/") if args.server else None)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
