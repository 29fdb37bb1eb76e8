"""Sign-in: what an identity provider tells us, and what the API asks of the authenticator.

- `IdTokenVerifier` (Google Identity Services' ID tokens) and `OAuthFlow` (the OAuth 2 /
  OpenID Connect code flow of GitHub, GitLab, Microsoft, ...) are the identity providers;
  their adapters (`adapters/auth/`) turn what the provider says into an `ExternalIdentity`.
- `PendingStates` keeps a code flow's state between its two requests (`auth/oauth_state.py`).
- `SignIn` is what the HTTP layer and the resolvers ask of `auth.Authenticator` (or
  `auth.OpenAuthenticator` on a server running open); every sign-in ends in a `Session`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from ainimal_zookeeper.domain.access import Viewer

__all__ = [
    "STATE_TTL_SECONDS",
    "ExternalIdentity",
    "IdTokenVerifier",
    "OAuthFlow",
    "PendingSignIn",
    "PendingStates",
    "Session",
    "SignIn",
]

#: How long a started code-flow sign-in may take to come back.
STATE_TTL_SECONDS = 600.0


@dataclass(frozen=True)
class ExternalIdentity:
    """A person as a provider (Google, GitHub, any OpenID Connect server) knows them.

    `subject` is the provider's stable id for the person (never reused, unlike a login name
    that can be renamed), so accounts are matched on (provider, subject). `username` is only
    a suggestion for the local name.
    """

    provider: str
    subject: str
    username: str | None = None
    email: str | None = None
    email_verified: bool = False
    name: str | None = None


class Session(NamedTuple):
    """A session token, when it expires, and who it is for (the GraphQL `Session` type)."""

    token: str
    expires_at: datetime
    viewer: Viewer


class IdTokenVerifier(Protocol):
    """An identity provider whose browser library hands us a signed ID token (Google)."""

    client_ids: tuple[str, ...]

    def verify(self, id_token: str) -> ExternalIdentity:
        """The identity an ID token names; `Unauthenticated` when refused, `Unavailable` when unreachable."""
        ...


class OAuthFlow(Protocol):
    """An identity provider reached through the OAuth 2 authorization-code flow."""

    kind: str

    @property
    def redirect_uri(self) -> str | None:
        """The callback URL the config fixes, if it does (else the HTTP layer derives one)."""
        ...

    def authorization_url(self, redirect_uri: str | None = None) -> tuple[str, str]:
        """The provider URL and state."""
        ...

    def complete(
        self, code: str | None, state: str | None, redirect_uri: str | None = None, error: str | None = None
    ) -> ExternalIdentity:
        """The identity at the end of the flow."""
        ...


@dataclass(frozen=True)
class PendingSignIn:
    """What a code flow's `complete` needs to finish a sign-in begun by `authorization_url`."""

    provider: str
    code_verifier: str
    redirect_uri: str
    expires_at: float


class PendingStates(Protocol):
    """Keeps pending sign-ins by state; `take` returns one at most once."""

    def save(self, state: str, pending: PendingSignIn) -> None:
        """Remember `pending` under `state`."""
        ...

    def take(self, state: str) -> PendingSignIn:
        """Remove and return the sign-in of `state`; `Unauthenticated` when unknown or expired."""
        ...


class SignIn(Protocol):
    """What the API asks of the authenticator (`auth.Authenticator`, or `auth.OpenAuthenticator`)."""

    def viewer_for(self, authorization_header: str | None) -> Viewer:
        """The viewer of a request; `Unauthenticated` for a bad header or token."""
        ...

    def login(self, username: str, password: str, address: str | None = None) -> Session:
        """A session for a username and password."""
        ...

    def create_account(
        self,
        username: str,
        password: str,
        creator: Viewer,
        roles: Sequence[str] | None = None,
        address: str | None = None,
    ) -> Viewer:
        """A new local account, if the config lets `creator` make one."""
        ...

    def set_password(self, username: str, password: str) -> None:
        """Replace a local password, signing the account out everywhere."""
        ...

    def sign_in_with_google(self, id_token: str, provider: str | None = None) -> Session:
        """A session for a Google ID token."""
        ...

    def start_sign_in(self, provider: str, redirect_uri: str | None = None) -> tuple[str, str]:
        """The provider URL to send a browser to, and the state it comes back with."""
        ...

    def finish_sign_in(
        self,
        provider: str,
        code: str | None,
        state: str | None,
        redirect_uri: str | None = None,
        error: str | None = None,
    ) -> Session:
        """A session at the end of a provider's code flow."""
        ...

    def redirect_uri_for(self, provider: str) -> str | None:
        """The callback URL configured for a provider, if one is."""
        ...

    def providers_for_client(self) -> list[dict[str, Any]]:
        """What a sign-in screen may offer."""
        ...
