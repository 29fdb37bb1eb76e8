"""What admins (and operators, for their resources) do to people and permissions.

Each call is checked against the actor's own rights through the same `Authorizer` as every
other request: granting on a resource needs `manage` on it; roles and accounts need `manage` on
the user. The last admin cannot be removed, demoted or disabled, so a server cannot lock its
operators out. Every username (and grant subject) is folded first, as sign-in folds it, so
"ＡＤＭＩＮ" names the account "admin" here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ainimal_zookeeper.auth.accounts import AccountStore
from ainimal_zookeeper.auth.grants import ANY, Grant, GrantStore
from ainimal_zookeeper.auth.usernames import fold_username
from ainimal_zookeeper.domain.access import Resource, Viewer
from ainimal_zookeeper.errors import Conflict
from ainimal_zookeeper.ports.authorization import Authorizer, authorize

__all__ = ["Administration"]


class Administration:
    """Roles, grants and accounts, changed only by viewers allowed to."""

    def __init__(
        self,
        grants: GrantStore,
        accounts: AccountStore,
        authorizer: Authorizer,
        forget: Callable[[str], None] | None = None,
    ) -> None:
        """`forget` drops a cached account (pass `Authenticator.forget`) so changes apply at once."""
        self._grants = grants
        self._accounts = accounts
        self._authorizer = authorizer
        self._forget = forget or (lambda _username: None)

    def set_roles(self, actor: Viewer, username: str, roles: Iterable[str]) -> tuple[str, ...]:
        """Replace someone's roles (manage on that user)."""
        username = fold_username(username)
        authorize(self._authorizer, actor, "manage", Resource("user", username))
        wanted = tuple(roles)
        if "admin" not in wanted:
            self._keep_an_admin(username)
        return self._grants.set_roles(username, wanted)

    def grant(self, actor: Viewer, subject: str, kind: str, resource: str, actions: Iterable[str]) -> Grant:
        """Let `subject` (a username or "role:<role>") do `actions` to a resource or "*" (manage on it)."""
        subject = fold_username(subject)
        authorize(self._authorizer, actor, "manage", _resource(kind, resource))
        return self._grants.grant(subject, kind, resource, actions, granted_by=actor.username)

    def revoke(
        self, actor: Viewer, subject: str, kind: str, resource: str, actions: Iterable[str] | None = None
    ) -> Grant | None:
        """Take back some (or all) actions of a grant (manage on the resource); returns what is left."""
        subject = fold_username(subject)
        authorize(self._authorizer, actor, "manage", _resource(kind, resource))
        return self._grants.revoke(subject, kind, resource, actions)

    def list_grants(
        self, actor: Viewer, *, kind: str | None = None, resource: str | None = None, subject: str | None = None
    ) -> list[Grant]:
        """Grants matching the filters: of one kind for who may manage it, all of them for admins."""
        authorize(self._authorizer, actor, "manage", _resource(kind or "user", resource or ANY))
        who = fold_username(subject) if subject is not None else None
        return self._grants.list_grants(kind=kind, resource=resource, subject=who)

    def list_accounts(self, actor: Viewer) -> list[dict[str, Any]]:
        """Every account without password hashes, with its roles (view on users)."""
        authorize(self._authorizer, actor, "view", Resource("user"))
        return [{**a.public_view(), "roles": list(self._grants.roles_of(a.username))} for a in self._accounts.all()]

    def disable_account(self, actor: Viewer, username: str, disabled: bool = True) -> None:
        """Disable (which signs it out everywhere) or re-enable an account (manage on that user)."""
        username = fold_username(username)
        authorize(self._authorizer, actor, "manage", Resource("user", username))
        if disabled:
            self._keep_an_admin(username)
        self._accounts.set_disabled(username, disabled)
        self._forget(username)

    def delete_account(self, actor: Viewer, username: str) -> None:
        """Remove an account with its roles and grants, so a later account of that name starts bare."""
        username = fold_username(username)
        authorize(self._authorizer, actor, "manage", Resource("user", username))
        self._keep_an_admin(username)
        for grant in self._grants.list_grants(subject=username):
            self._grants.revoke(username, grant.kind, grant.resource)
        self._grants.set_roles(username, ())
        self._accounts.delete(username)
        self._forget(username)

    def _keep_an_admin(self, username: str) -> None:
        if self._grants.usernames_with_role("admin") == [username]:
            raise Conflict(f"{username!r} is the only admin: make someone else admin first")


def _resource(kind: str, resource: str) -> Resource:
    return Resource(kind, None if resource == ANY else resource)
