"""Build sign-in and authorization for a control plane from its config (the composition root's part).

The config's `no_auth`, `authentication_providers` and `authorization_provider` go to
`bootstrap.authentication.build_authentication`; secrets not written in the config (ZK_JWT_SECRET,
ZK_<NAME>_CLIENT_SECRET, ZK_ADMIN_*) are read from the environment and the `.env.local` files
the config loader reads too; a `db_address` is opened here, since picking adapters is this
package's job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ainimal_zookeeper.errors import ConfigError

if TYPE_CHECKING:
    from ainimal_zookeeper.auth import Administration, Authenticator, OpenAuthenticator, Passwords
    from ainimal_zookeeper.config import ZookeeperConfig
    from ainimal_zookeeper.ports import DocumentStore
    from ainimal_zookeeper.ports.authorization import Authorizer

__all__ = ["OPEN_BANNER", "OPEN_TO_NETWORK_BANNER", "Access", "build_access", "documents_for", "open_database_address"]

log = logging.getLogger(__name__)

_SQLITE = "sqlite:///"

OPEN_BANNER = (
    "WARNING: this server runs OPEN (no_auth: true): anyone who can reach it may launch, control, "
    "train and delete everything. Set no_auth: false and configure authentication_providers "
    "(docs/access.md) before letting anyone else reach it."
)
OPEN_TO_NETWORK_BANNER = (
    "WARNING: server.open_to_network is true: this OPEN server accepts connections from other machines. "
    "EVERYONE ON THE NETWORK MAY LAUNCH, CONTROL AND DELETE EVERYTHING."
)


@dataclass
class Access:
    """Who is asking (`authenticator`), what they may do (`authorizer`) and who changes that."""

    authenticator: Authenticator | OpenAuthenticator
    authorizer: Authorizer
    #: None when the server runs open: there are no accounts, roles or grants to administer.
    administration: Administration | None
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Whether the server runs without sign-in (`no_auth: true`)."""
        return self.administration is None

    def close(self) -> None:
        """Close the databases opened for accounts or grants."""
        for close in self.closers:
            close()


def build_access(config: ZookeeperConfig, documents: DocumentStore, passwords: Passwords | None = None) -> Access:
    """The authenticator, authorizer and administration `config` asks for.

    Args:
        config: the server's config; its folder is where relative paths and `.env.local` are read.
        documents: the server's DocumentStore, where accounts and grants live unless the
            config names a JSON file or a database.
        passwords: the password hasher (the default argon2id cost when None).

    Raises:
        ConfigError: naming the key or environment variable to fix.
    """
    from ainimal_zookeeper.auth import Administration, Authenticator
    from ainimal_zookeeper.bootstrap.authentication import build_authentication
    from ainimal_zookeeper.config import load_environment

    base_dir = config.source_dir
    opened: list[Callable[[], None]] = []

    def open_database(address: str) -> DocumentStore:
        store = open_database_address(address, base_dir)
        opened.append(store.close)
        return store

    authenticator, authorizer = build_authentication(
        config.no_auth,
        config.authentication_providers,
        config.authorization_provider,
        documents,
        environ=load_environment(base_dir),
        open_database=open_database,
        passwords=passwords,
        base_dir=base_dir,
    )
    administration = None
    if isinstance(authenticator, Authenticator):
        administration = Administration(authenticator.roles, authenticator.accounts, authorizer, authenticator.forget)
    return Access(authenticator, authorizer, administration, opened)


def open_database_address(address: str, base_dir: Path | None = None) -> DocumentStore:
    """A DocumentStore for a `db_address`: `sqlite:///relative.db` or `sqlite:////absolute.db`.

    Raises:
        ConfigError: an address of another kind.
    """
    if not address.startswith(_SQLITE) or len(address) == len(_SQLITE):
        raise ConfigError(
            f"db_address {address!r} is not supported: use sqlite:///file.db (relative to the config) "
            "or sqlite:////absolute/path.db, or leave it out to keep accounts in the server's own store"
        )
    from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore

    path = Path(address[len(_SQLITE) :]).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteDocumentStore(path)


def documents_for(config: ZookeeperConfig, data_dir: Path) -> DocumentStore:
    """The server's own DocumentStore and nothing else, for commands that need no workers or buses."""
    from ainimal_zookeeper.bootstrap.ports import _documents  # the very choice the server makes

    if config.backends.documents != "firestore":
        from ainimal_zookeeper.bootstrap.data_folder import secure_data_folder

        secure_data_folder(data_dir)  # create-admin may be the first to make it
    return _documents(config.backends.documents, data_dir, config.gcp)
