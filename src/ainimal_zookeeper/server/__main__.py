"""`python -m ainimal_zookeeper.server`: run the embedded zookeeper on this machine.

`python -m ainimal_zookeeper.server create-admin --config FILE` makes the first admin account
(see `create_admin`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.server.listening import PortBusy


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; `--help` explains each flag."""
    parser = argparse.ArgumentParser(
        prog="python -m ainimal_zookeeper.server",
        description="Run the AInimal Zookeeper on this machine: GraphQL at /graphql, workers as local processes.",
        epilog="To create the first admin account (or reset an admin's password): "
        "python -m ainimal_zookeeper.server create-admin --config FILE [--data DIR] [--username NAME]",
    )
    parser.add_argument("--config", type=Path, help="YAML or JSON config file (default: the bundled examples/zoo.yaml)")
    parser.add_argument("--host", help="address to listen on (default: the config's server.host, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: the config's server.port, else 8000)")
    parser.add_argument(
        "--data",
        type=Path,
        help="folder for state and checkpoints (default: the config's server.data_dir, else ./zookeeper-data)",
    )
    parser.add_argument("--client", action="store_true", help="also serve the web client at /")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"], help="server log level"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted (or run the `create-admin` command); returns the exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["create-admin"]:
        from ainimal_zookeeper.server.create_admin import create_admin_main

        logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
        return create_admin_main(arguments[1:])
    args = parse_args(arguments)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from ainimal_zookeeper.server.serve import serve

    try:
        config = _load(args.config)
        return serve(
            config,
            host=args.host,
            port=args.port,
            data_dir=args.data,
            with_client=args.client,
            log_level=args.log_level,
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PortBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _load(path: Path | None):  # ZookeeperConfig, imported lazily
    from ainimal_zookeeper.config import load_config
    from ainimal_zookeeper.server.examples import bundled_config_path

    return load_config(path or bundled_config_path())


if __name__ == "__main__":
    sys.exit(main())
