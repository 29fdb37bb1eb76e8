"""Sign-in and authorization: who is asking (authentication) and what they may do (authorization).

`build_authentication` turns the config's `no_auth`, `authentication_providers` and
`authorization_provider` into an `Authenticator` (or `OpenAuthenticator`) and an `Authorizer`.
google-auth and Authlib are imported only when a Google or OAuth provider is configured.
"""

from ainimal_zookeeper.auth.accounts import Account, AccountStore
from ainimal_zookeeper.auth.administration import Administration
from ainimal_zookeeper.auth.authenticator import AUTH_PATH_PREFIX, Authenticator, ExternalPolicy
from ainimal_zookeeper.auth.grants import ASSIGNABLE_ROLES, KINDS, ROLES, Grant, GrantStore
from ainimal_zookeeper.auth.identities import ExternalIdentity
from ainimal_zookeeper.auth.json_documents import JsonFileDocumentStore
from ainimal_zookeeper.auth.local_accounts import LocalAccountPolicy, LocalAccounts
from ainimal_zookeeper.auth.open_access import OpenAuthenticator
from ainimal_zookeeper.auth.passwords import Passwords
from ainimal_zookeeper.auth.providers import build_authentication
from ainimal_zookeeper.auth.rate_limit import LoginLimiter, LoginRateLimited
from ainimal_zookeeper.auth.role_authorizer import RoleAuthorizer
from ainimal_zookeeper.auth.sessions import ANONYMOUS, Session
from ainimal_zookeeper.auth.tokens import TokenPolicy, TokenService, bearer_token

__all__ = [
    "ANONYMOUS",
    "ASSIGNABLE_ROLES",
    "AUTH_PATH_PREFIX",
    "KINDS",
    "ROLES",
    "Account",
    "AccountStore",
    "Administration",
    "Authenticator",
    "ExternalIdentity",
    "ExternalPolicy",
    "Grant",
    "GrantStore",
    "JsonFileDocumentStore",
    "LocalAccountPolicy",
    "LocalAccounts",
    "LoginLimiter",
    "LoginRateLimited",
    "OpenAuthenticator",
    "Passwords",
    "RoleAuthorizer",
    "Session",
    "TokenPolicy",
    "TokenService",
    "bearer_token",
    "build_authentication",
]
