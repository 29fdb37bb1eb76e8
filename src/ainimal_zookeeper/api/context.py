"""What every resolver receives as `info.context`, and what the API needs of sign-in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ainimal_zookeeper.service.authorization import Viewer, instance_resource
from ainimal_zookeeper.service.zookeeper import Zookeeper

if TYPE_CHECKING:
    from ainimal_zookeeper.auth.administration import Administration
    from ainimal_zookeeper.auth.sessions import Session


class SignIn(Protocol):
    """What the API asks of `auth.Authenticator` (or `auth.OpenAuthenticator` when running open)."""

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


@dataclass(frozen=True)
class RequestContext:
    """The viewer making the request, the service that answers it, and sign-in.

    `sign_in` and `administration` are None where a context is built without them (a server
    running open has no administration: there are no accounts to administer).
    """

    viewer: Viewer
    zookeeper: Zookeeper
    sign_in: SignIn | None = None
    administration: Administration | None = None
    #: The client's address, which login attempts are rate-limited by.
    address: str | None = None
    #: Per request: instance id -> whether the viewer may inspect it (fields ask many times).
    _inspect: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def may_inspect(self, doc: dict[str, Any]) -> bool:
        """Whether the viewer may see the instance's insides (asked once per instance per request)."""
        key = str(doc["id"])
        known = self._inspect.get(key)
        if known is None:
            known = self._inspect[key] = self.zookeeper.authorizer.allows(
                self.viewer, "inspect", instance_resource(doc)
            )
        return known

    def may_inspect_id(self, instance_id: str) -> bool:
        """`may_inspect` for an instance known by id (an event's); False when it is hidden or gone."""
        known = self._inspect.get(instance_id)
        if known is not None:
            return known
        found = self.zookeeper.access.instance(self.viewer, instance_id)
        if found is None:
            return False
        known = self._inspect[instance_id] = self.zookeeper.access.may_inspect(self.viewer, found)
        return known
