"""Serve a config with uvicorn until interrupted (used by the CLI and `Server.run`)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType

import uvicorn

from ainimal_zookeeper.bootstrap import build_embedded
from ainimal_zookeeper.bootstrap.data_folder import use_private_umask
from ainimal_zookeeper.config import ZookeeperConfig, open_server_problem
from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.server.listening import check_port_free, port_from_environment
from ainimal_zookeeper.server.process_privacy import hide_process
from ainimal_zookeeper.server.side_processes import SideProcesses, side_process_environment
from ainimal_zookeeper.server.tls import tls_files


def serve(
    config: ZookeeperConfig,
    host: str | None = None,
    port: int | None = None,
    data_dir: Path | None = None,
    with_client: bool = False,
    log_level: str = "info",
) -> int:
    """Build the embedded zookeeper for `config` and serve it; returns the exit code.

    The port is `port` (`--port`), else the `PORT` environment variable, else `server.port`.
    """
    from ainimal_zookeeper.client.page import client_routes

    # Everything the server writes (store, checkpoints, recordings, logs) is its user's alone.
    use_private_umask()
    if not config.server.inspectable:
        hide_process()  # model code (same user) cannot read the server's environ or memory
    host = host or config.server.host
    if port is None:  # a platform that sets PORT (Cloud Run, Heroku) decides where to listen
        port = port_from_environment(os.environ) or config.server.port
    problem = open_server_problem(config, host)  # --host may differ from the config's server.host
    if problem:
        raise ConfigError(problem)
    if config.no_auth:  # from the CLI and from Server(...).run() alike
        warn_open(config.server.open_to_network)
    tls = tls_files(config)  # a certificate that cannot be used stops the start here
    check_port_free(host, port)
    if host != config.server.host:  # what the server listens on is a name it answers to
        config = config.model_copy(update={"server": config.server.model_copy(update={"host": host})})
    folder = Path(data_dir or config.server.data_dir or "zookeeper-data").resolve()
    app = build_embedded(config, folder, client_routes=client_routes() if with_client else None)
    # The operator's side processes get the variables the config sees (.env.local included)
    # without the server's secrets: their /proc/<pid>/environ is readable by model code.
    side = SideProcesses(
        [entry.cmd for entry in config.launch_etc],
        side_process_environment(config),
        shown=config.launch_etc_as_written,
    )
    side.start()
    app.zookeeper.side_processes.attach(side)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    scheme = "https" if tls else "http"
    print(f"AInimal Zookeeper serving GraphQL at {scheme}://{shown}:{port}/graphql (data in {folder})", flush=True)
    if with_client:
        print(f"web client at {scheme}://{shown}:{port}/", flush=True)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; with this handler in place
    # that ends here as for Ctrl-C, so the workers are stopped instead of being orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    # A write past the process's file-size limit then fails with an error the request reports
    # (STORAGE_ERROR) instead of killing the server.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        # Open event streams (a browser watching an instance) never end by themselves: give them
        # a few seconds on shutdown, then close them, instead of waiting for the browser to leave.
        settings = uvicorn.Config(
            app.http,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=3,
            ssl_certfile=tls.certfile if tls else None,
            ssl_keyfile=tls.keyfile if tls else None,
        )
        uvicorn.Server(settings).run()
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and re-raises the signal: a normal stop
    finally:
        side.stop()
        app.close()
    print("AInimal Zookeeper stopped", flush=True)
    return 0


def warn_open(to_network: bool) -> None:
    """Say loudly, before anything listens, that everyone who reaches this server may do everything."""
    from ainimal_zookeeper.bootstrap.access import OPEN_BANNER, OPEN_TO_NETWORK_BANNER

    line = "!" * 100
    banner = f"{OPEN_BANNER}\n{OPEN_TO_NETWORK_BANNER}" if to_network else OPEN_BANNER
    print(f"{line}\n{banner}\n{line}", file=sys.stderr, flush=True)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
