"""The web client's page. A placeholder until the web client lands: it says what the server
offers and how to reach its API, and lists instances using the GraphQL API itself."""

from __future__ import annotations

from importlib import resources


def client_page() -> str:
    """The HTML served at / by `--client` and by `python -m ainimal_zookeeper.client`."""
    return (resources.files("ainimal_zookeeper.client") / "static" / "index.html").read_text()
