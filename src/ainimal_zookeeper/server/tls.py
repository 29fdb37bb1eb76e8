"""`server.https`: the certificate and key TLS is served from, checked before anything starts."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ainimal_zookeeper.config import ZookeeperConfig
from ainimal_zookeeper.errors import ConfigError


@dataclass(frozen=True)
class TlsFiles:
    """The PEM certificate (chain) and private key files uvicorn serves TLS from."""

    certfile: str
    keyfile: str


def tls_files(config: ZookeeperConfig) -> TlsFiles | None:
    """The config's TLS files when `server.https` is on, loaded once to prove they fit.

    Raises:
        ConfigError: a file that cannot be read, is not PEM, or a key that does not match the
            certificate (or needs a passphrase), naming both keys and the fix.
    """
    server = config.server
    if not server.https:
        return None
    assert server.ssl_certfile is not None and server.ssl_keyfile is not None  # checked by the config
    for key, path in (("ssl_certfile", server.ssl_certfile), ("ssl_keyfile", server.ssl_keyfile)):
        if not Path(path).is_file():
            raise ConfigError(f"server.{key}: {path} is not a file; point it at your PEM {key[4:-4]}")
    try:
        # What uvicorn will do with them, done now so that the problem is told before listening.
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            server.ssl_certfile, server.ssl_keyfile, password=_no_passphrase
        )
    except (OSError, ssl.SSLError, _Encrypted) as exc:
        reason = "the key is encrypted" if isinstance(exc, _Encrypted) else (exc.strerror or str(exc))
        raise ConfigError(
            f"server.ssl_certfile ({server.ssl_certfile}) and server.ssl_keyfile ({server.ssl_keyfile}) "
            f"cannot serve TLS: {reason}. Expected a PEM certificate (chain) and its unencrypted PEM "
            "private key, readable by the server's user"
        ) from None
    return TlsFiles(server.ssl_certfile, server.ssl_keyfile)


class _Encrypted(Exception):
    """The key asks for a passphrase, which the server has no way to be given."""


def _no_passphrase() -> str:
    # Without a callback OpenSSL would prompt on the terminal and block the start.
    raise _Encrypted
