"""`python -m ainimal_zookeeper.client`: serve the web client on its own (placeholder page)."""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ainimal_zookeeper.client.page import client_page


def _lan_address() -> str:
    """The address other devices on the LAN likely reach this machine by."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def main(argv: list[str] | None = None) -> int:
    """Serve the client page until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m ainimal_zookeeper.client", description="Serve the AInimal Zookeeper web client."
    )
    parser.add_argument(
        "--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0: reachable from the LAN)"
    )
    parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    args = parser.parse_args(argv)

    async def index(_request: Request) -> HTMLResponse:
        return HTMLResponse(client_page())

    shown = _lan_address() if args.host == "0.0.0.0" else args.host
    print(f"AInimal Zookeeper client at http://{shown}:{args.port}/ (enter your server's URL there)", flush=True)
    uvicorn.run(Starlette(routes=[Route("/", index)]), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
