"""The authenticator and authorizer of a server running open (`no_auth: true`): everyone is the local operator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ainimal_zookeeper.domain.access import ACTIONS, LOCAL_OPERATOR, Resource, Viewer
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.ports.identity import Session

__all__ = ["OpenAuthenticator", "OpenAuthorizer"]

_NO_SIGN_IN = "this server runs open (no_auth): no sign-in is needed; send requests without a token"


class OpenAuthenticator:
    """Same methods as `Authenticator`, so callers need no special case for `no_auth`."""

    def viewer_for(self, authorization_header: str | None) -> Viewer:
        """Always the local operator; a token, if sent, is ignored."""
        return LOCAL_OPERATOR

    def login(self, username: str, password: str, address: str | None = None) -> Session:
        """Refused: there is nothing to sign in to."""
        raise InvalidInput(_NO_SIGN_IN)

    def create_account(
        self,
        username: str,
        password: str,
        creator: Viewer,
        roles: Sequence[str] | None = None,
        address: str | None = None,
    ) -> Viewer:
        """Refused: an open server has no accounts."""
        raise InvalidInput(_NO_SIGN_IN)

    def set_password(self, username: str, password: str) -> None:
        """Refused: an open server has no accounts."""
        raise InvalidInput(_NO_SIGN_IN)

    def sign_in_with_google(self, id_token: str, provider: str | None = None) -> Session:
        """Refused: there is nothing to sign in to."""
        raise InvalidInput(_NO_SIGN_IN)

    def start_sign_in(self, provider: str, redirect_uri: str | None = None) -> tuple[str, str]:
        """Refused: there is nothing to sign in to."""
        raise InvalidInput(_NO_SIGN_IN)

    def finish_sign_in(
        self,
        provider: str,
        code: str | None,
        state: str | None,
        redirect_uri: str | None = None,
        error: str | None = None,
    ) -> Session:
        """Refused: there is nothing to sign in to."""
        raise InvalidInput(_NO_SIGN_IN)

    def redirect_uri_for(self, provider: str) -> str | None:
        """None: there are no providers."""
        return None

    def providers_for_client(self) -> list[dict[str, Any]]:
        """None: the sign-in screen has nothing to show."""
        return []

    def ensure_initial_admin(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Nothing to do: the local operator is the admin."""
        return None


class OpenAuthorizer:
    """Everyone may do everything: the `no_auth` server on a laptop."""

    def allows(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        return True

    def permissions(self, viewer: Viewer) -> dict[str, Any]:
        return {"open": True, **{action: True for action in ACTIONS}}
