"""What a viewer may do, said by the server so a client shows only what will work.

- `Viewer.globalPermissions`: what the viewer may do on this server as a whole (watch
  instances, launch something, open the administration screen, manage accounts).
- `ModelSpec.permissions` / `EnvSpec.permissions`: the actions the viewer may take on that model
  or environment (launch, train ...). `Instance.permissions` lives with the other instance
  visibility resolvers (access_resolvers.py).

Every answer comes from the server's one `Authorizer`; the client re-implements no rule, and
every request is authorized again when it is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.domain.access import ACTIONS, Resource, Viewer

__all__ = ["PERMISSION_RESOLVERS", "VIEWER_KEY", "global_permissions"]

Resolver = Callable[..., Any]

#: Where an API Viewer object (access_resolvers.viewer_info) keeps the `Viewer` it describes:
#: `login` and `createAccount` return a Viewer other than the request's.
VIEWER_KEY = "_viewer"

#: Actions that can apply to a model or an environment (as roles and grants name them).
CATALOG_ACTIONS = ACTIONS


def _ctx(info: GraphQLResolveInfo) -> RequestContext:
    return info.context  # type: ignore[no-any-return]


def global_permissions(ctx: RequestContext, viewer: Viewer) -> list[str]:
    """The ViewerPermission values of `viewer`, in the schema's order."""
    authorizer = ctx.zookeeper.authorizer
    # The authorizer's own summary: may the viewer do this to something (any model, any instance)?
    somewhere = authorizer.permissions(viewer)
    granted: list[str] = [name for name in ("view", "launch") if somewhere.get(name) is True]
    # A server running open has no accounts, so no administration (nobody to administer).
    if ctx.administration is not None:
        users = Resource("user")
        may_manage = authorizer.allows(viewer, "manage", users)
        if may_manage or authorizer.allows(viewer, "view", users):
            granted.append("administer")
        if may_manage:
            granted.append("manage_users")
    return [name.upper() for name in granted]


def viewer_global_permissions(shown: dict[str, Any], info: GraphQLResolveInfo) -> list[str]:
    """`Viewer.globalPermissions` of the Viewer shown (the request's own when it does not say)."""
    ctx = _ctx(info)
    viewer = shown.get(VIEWER_KEY)
    return global_permissions(ctx, viewer if isinstance(viewer, Viewer) else ctx.viewer)


def _catalog_permissions(kind: str) -> Resolver:
    def resolve(spec: dict[str, Any], info: GraphQLResolveInfo) -> list[str]:
        ctx = _ctx(info)
        resource = Resource(kind, str(spec["name"]))
        return [action for action in CATALOG_ACTIONS if ctx.zookeeper.authorizer.allows(ctx.viewer, action, resource)]

    return resolve


PERMISSION_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Viewer": {"globalPermissions": viewer_global_permissions},
    "ModelSpec": {"permissions": _catalog_permissions("model")},
    "EnvSpec": {"permissions": _catalog_permissions("environment")},
}
