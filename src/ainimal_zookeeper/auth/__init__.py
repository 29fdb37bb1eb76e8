"""Sign-in and authorization logic that holds for every provider: who is asking and what they may do.

Accounts, roles and grants (over the `DocumentStore` port), this server's session tokens,
passwords, login rate limits, the `Authenticator` that turns credentials into viewers and the
`RoleAuthorizer`. The identity providers (Google, OAuth 2 / OpenID Connect) are ports
(`ports/identity.py`) implemented in `adapters/auth/`; the config's providers are built and
wired by the composition root (`bootstrap/authentication.py`).
"""

from ainimal_zookeeper.auth.accounts import Account, AccountStore
from ainimal_zookeeper.auth.administration import Administration
from ainimal_zookeeper.auth.authenticator import Authenticator, ExternalPolicy
from ainimal_zookeeper.auth.grants import ASSIGNABLE_ROLES, KINDS, ROLES, Grant, GrantStore
from ainimal_zookeeper.auth.local_accounts import LocalAccountPolicy, LocalAccounts
from ainimal_zookeeper.auth.open_access import OpenAuthenticator, OpenAuthorizer
from ainimal_zookeeper.auth.passwords import Passwords
from ainimal_zookeeper.auth.rate_limit import LoginLimiter, LoginRateLimited
from ainimal_zookeeper.auth.role_authorizer import RoleAuthorizer
from ainimal_zookeeper.auth.tokens import TokenPolicy, TokenService, bearer_token

__all__ = [
    "ASSIGNABLE_ROLES",
    "KINDS",
    "ROLES",
    "Account",
    "AccountStore",
    "Administration",
    "Authenticator",
    "ExternalPolicy",
    "Grant",
    "GrantStore",
    "LocalAccountPolicy",
    "LocalAccounts",
    "LoginLimiter",
    "LoginRateLimited",
    "OpenAuthenticator",
    "OpenAuthorizer",
    "Passwords",
    "RoleAuthorizer",
    "TokenPolicy",
    "TokenService",
    "bearer_token",
]
