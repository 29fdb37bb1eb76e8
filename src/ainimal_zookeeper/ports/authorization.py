"""The one place every resolver asks "may this viewer do this?".

Every call site names an action from `domain.access.ACTIONS` and the resource it acts on; the
`Authorizer` decides. A server running open (`no_auth`) uses `auth.OpenAuthorizer`, which
allows everything; a server with sign-in uses `auth.RoleAuthorizer` (roles, ownership, public
instances, grants). The composition root (`bootstrap/access.py`) picks one.
"""

from __future__ import annotations

from typing import Any, Protocol

from ainimal_zookeeper.domain.access import Resource, Viewer
from ainimal_zookeeper.errors import Forbidden

__all__ = ["Authorizer", "authorize"]


class Authorizer(Protocol):
    """Decides what viewers may do."""

    def allows(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        """Whether `viewer` may do `action` to `resource`."""
        ...

    def permissions(self, viewer: Viewer) -> dict[str, Any]:
        """What the viewer may do, for the client to simplify its UI."""
        ...


def authorize(authorizer: Authorizer, viewer: Viewer, action: str, resource: Resource) -> None:
    """Raise `Forbidden` unless `viewer` may do `action` to `resource`.

    Callers check visibility first (a hidden instance is NOT_FOUND, never FORBIDDEN), so the
    refusal names only what the viewer can already see.
    """
    if not authorizer.allows(viewer, action, resource):
        who = viewer.username or "an anonymous viewer"
        raise Forbidden(f"{who} may not {action} {resource.kind} {resource.id or ''}".rstrip())
