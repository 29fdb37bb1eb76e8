"""What every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.domain.access import Viewer, instance_resource
from ainimal_zookeeper.ports.identity import SignIn
from ainimal_zookeeper.service.zookeeper import Zookeeper

if TYPE_CHECKING:
    from ainimal_zookeeper.auth.administration import Administration


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
