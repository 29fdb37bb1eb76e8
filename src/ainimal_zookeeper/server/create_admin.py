"""`python -m ainimal_zookeeper.server create-admin`: make the first admin, or reset an admin's password.

Run it on the server's machine (or wherever the config's stores are reachable), with the same
`--config` and `--data` as the server. The password comes from ZK_ADMIN_PASSWORD or is asked
for twice at the terminal; there is never a default one. A running server sees the change
within a few seconds (its account and role caches expire).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Mapping
from pathlib import Path

from ainimal_zookeeper.errors import ConfigError, InvalidInput

__all__ = ["create_admin_main"]

USERNAME_VAR = "ZK_ADMIN_USERNAME"
PASSWORD_VAR = "ZK_ADMIN_PASSWORD"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ainimal_zookeeper.server create-admin",
        description=(
            "Create an admin account with a password, or reset the password of an existing one (which signs it "
            f"out everywhere). The password is read from {PASSWORD_VAR}, else asked for at the terminal."
        ),
    )
    parser.add_argument("--config", type=Path, help="the server's YAML or JSON config (default: the bundled example)")
    parser.add_argument("--data", type=Path, help="the server's data folder, as given to the server")
    parser.add_argument("--username", help=f"the admin's username (default: {USERNAME_VAR}, else asked for)")
    return parser.parse_args(argv)


def create_admin_main(argv: list[str]) -> int:
    """Run the command; returns the exit code (2 for a config or input the command cannot use)."""
    args = _parse(argv)
    from ainimal_zookeeper.auth import Authenticator
    from ainimal_zookeeper.bootstrap.access import build_access, documents_for
    from ainimal_zookeeper.bootstrap.data_folder import use_private_umask
    from ainimal_zookeeper.config import load_config, load_environment
    from ainimal_zookeeper.server.examples import bundled_config_path

    try:
        config = load_config(args.config or bundled_config_path())
        if config.no_auth:
            raise ConfigError(
                "this config runs open (no_auth: true), so it has no accounts: set no_auth: false and add a "
                "type: jwt entry to authentication_providers first"
            )
        environ = load_environment(config.source_dir)
        username = args.username or environ.get(USERNAME_VAR, "").strip() or _ask("admin username: ")
        password = _password(environ)
        data_dir = Path(args.data or config.server.data_dir or "zookeeper-data").resolve()
        use_private_umask()  # the store it writes is the server's, private to its user
        documents = documents_for(config, data_dir)
        try:
            access = build_access(config, documents)
            try:
                authenticator = access.authenticator
                if not isinstance(authenticator, Authenticator) or authenticator.local is None:
                    raise ConfigError(
                        "create-admin makes a username-and-password account, but authentication_providers has no "
                        f"type: jwt entry; for a GitHub or Google admin set {USERNAME_VAR}=github:<login> and restart"
                    )
                created = authenticator.create_or_reset_admin(username, password)
            finally:
                access.close()
        finally:
            documents.close()
    except (ConfigError, InvalidInput) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if created:
        print(f"created the admin account {username!r}; sign in with it and remove {PASSWORD_VAR} from the environment")
    else:
        print(f"reset the password of {username!r} and made it an admin; its earlier sessions are signed out")
    return 0


def _ask(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise InvalidInput(f"no username given: pass --username or set {USERNAME_VAR}")
    return input(prompt).strip()


def _password(environ: Mapping[str, str]) -> str:
    """ZK_ADMIN_PASSWORD, else typed twice at the terminal (never echoed, never a default)."""
    given = environ.get(PASSWORD_VAR, "")
    if given:
        return given
    if not sys.stdin.isatty():
        raise InvalidInput(f"no password given: set {PASSWORD_VAR}, or run this at a terminal to type it")
    first = getpass.getpass("new admin password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput("the two passwords differ: run the command again")
    return first
