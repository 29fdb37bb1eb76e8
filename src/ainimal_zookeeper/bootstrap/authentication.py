"""Build sign-in and authorization from the config's `no_auth`, `authentication_providers` and
`authorization_provider` (the configuration keys), failing at start with the entry and key to fix.

The composition root's part of sign-in: it picks the identity-provider adapters
(`adapters/auth/`: Google ID tokens, OAuth 2 / OpenID Connect, the JSON-file store) and wires
them into the provider-independent `auth.Authenticator` and `auth.RoleAuthorizer`.

    no_auth: false
    authentication_providers:
      - type: jwt                      # username + password; session tokens
        public_can_create_account: false
        admin_can_create_account: true
        db_path: users.json            # OR db_address: sqlite:///users.db; neither: the server's store
        jwt_secret: ${env.JWT_SECRET}  # or ZK_JWT_SECRET; HS256 needs >= 32 bytes
        jwt_algorithm: HS256           # RS256 / ES256 / ...: jwt_private_key_path (+ jwt_public_key_path)
        jwt_issuer: ainimal-zookeeper
        jwt_audience: ainimal-zookeeper
        jwt_expires_in: 1h
      - type: google                   # Google Identity Services ID tokens
        client_id: ${env.GOOGLE_CLIENT_ID}
      - type: github                   # github | gitlab | microsoft | bitbucket | amazon | oidc
        client_id: ${env.GITHUB_CLIENT_ID}
        client_secret: ${env.GITHUB_CLIENT_SECRET}   # or ZK_GITHUB_CLIENT_SECRET
    authorization_provider:
      type: json_file                  # OR type: database (the server's store, or db_address)
      path: auth.json

Vendor SDKs (google-auth, Authlib) are imported only when a provider needs them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.auth.json_documents import JsonFileDocumentStore
from ainimal_zookeeper.adapters.auth.oidc_presets import PLACEHOLDER_DEFAULTS, PRESETS, OAuthEndpoints
from ainimal_zookeeper.api.sign_in_routes import authorize_path
from ainimal_zookeeper.auth.accounts import AccountStore
from ainimal_zookeeper.auth.authenticator import Authenticator, ExternalPolicy
from ainimal_zookeeper.auth.grants import ASSIGNABLE_ROLES, GrantStore
from ainimal_zookeeper.auth.local_accounts import LocalAccountPolicy, LocalAccounts
from ainimal_zookeeper.auth.oauth_state import DocumentStates
from ainimal_zookeeper.auth.open_access import OpenAuthenticator, OpenAuthorizer
from ainimal_zookeeper.auth.passwords import MIN_PASSWORD_LENGTH, Passwords
from ainimal_zookeeper.auth.rate_limit import LoginLimiter
from ainimal_zookeeper.auth.role_authorizer import RoleAuthorizer, role_actions_from_config
from ainimal_zookeeper.auth.settings import ProviderSettings
from ainimal_zookeeper.auth.tokens import TokenService
from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.ports.authorization import Authorizer
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.ports.identity import IdTokenVerifier, OAuthFlow

__all__ = ["AUTHENTICATION_TYPES", "build_authentication"]

log = logging.getLogger(__name__)

OAUTH_TYPES = (*PRESETS, "oidc")
AUTHENTICATION_TYPES = ("jwt", *OAUTH_TYPES)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_COMMON_KEYS = ("type", "name")
_JWT_KEYS = (
    *_COMMON_KEYS,
    "public_can_create_account", "admin_can_create_account", "db_path", "db_address", "default_role",
    "min_password_length", "jwt_secret", "jwt_algorithm", "jwt_issuer", "jwt_audience", "jwt_expires_in",
    "jwt_not_before", "jwt_subject", "jwt_jti", "jwt_leeway", "jwt_private_key_path", "jwt_public_key_path",
    "max_login_attempts_per_account", "max_login_attempts_per_address", "login_attempt_window",
)  # fmt: skip
_EXTERNAL_KEYS = (
    *_COMMON_KEYS,
    "client_id", "key", "client_secret", "secret", "redirect_uri", "scope", "authorize_url", "token_url",
    "userinfo_url", "base_url", "tenant", "subject_field", "username_field", "email_field", "timeout",
    "default_role", "allowed_domains", "allowed_users", "hosted_domain", "clock_skew",
)  # fmt: skip
_AUTHORIZATION_KEYS = ("type", "path", "db_address", "role_defaults", "cache_seconds")
OpenDatabase = Callable[[str], DocumentStore]


def build_authentication(
    no_auth: bool,
    authentication_providers: Sequence[Mapping[str, Any]],
    authorization_provider: Mapping[str, Any] | None,
    documents: DocumentStore,
    *,
    environ: Mapping[str, str] | None = None,
    open_database: OpenDatabase | None = None,
    passwords: Passwords | None = None,
    google_request: Any = None,
    base_dir: Path | None = None,
) -> tuple[Authenticator | OpenAuthenticator, Authorizer]:
    """The authenticator and authorizer the config asks for.

    Args:
        no_auth, authentication_providers, authorization_provider: the config's keys.
        documents: the server's DocumentStore (accounts, grants and sign-in state go there
            unless the config names a JSON file or a database).
        environ: variables for secrets not in the config (ZK_JWT_SECRET, ZK_<NAME>_CLIENT_SECRET);
            the process environment by default. Pass the loader's environment to include .env.local.
        open_database: opens a `db_address` (e.g. "sqlite:///users.db") as a DocumentStore
            (`bootstrap.access` supplies it, and closes what it opened).
        passwords: the password hasher (tests pass cheap argon2 parameters).
        google_request: a google-auth transport for fetching Google's certificates (tests).
        base_dir: the config file's folder; relative `db_path`, `path` and key paths are read
            against it (the current directory when None).

    Raises:
        ConfigError: naming the entry and key that cannot be used.
    """
    env = os.environ if environ is None else environ
    if no_auth:
        log.warning(
            "THIS SERVER RUNS OPEN (no_auth: true): anyone who can reach it may do everything. "
            "Set no_auth: false and configure authentication_providers before exposing it."
        )
        if authentication_providers:
            log.warning(
                "no_auth is true, so the %d authentication_providers are ignored", len(authentication_providers)
            )
        return OpenAuthenticator(), OpenAuthorizer()
    if not authentication_providers:
        raise ConfigError(
            "sign-in is required (no_auth is false, the default) but authentication_providers is empty, so "
            "nobody could sign in: add a provider (e.g. `- type: jwt` for accounts with passwords, then "
            "`python -m ainimal_zookeeper.server create-admin`; see docs/access.md), or set no_auth: true "
            "for an open server that listens on loopback only"
        )
    grants, authorizer = _authorization(authorization_provider, documents, open_database, base_dir)
    entries = _entries(authentication_providers, base_dir)
    jwt_entry = next((s for t, s in entries if t == "jwt"), None)
    tokens = TokenService.from_settings(jwt_entry or _session_only(), env)
    accounts = AccountStore(_account_documents(jwt_entry, documents, open_database) if jwt_entry else documents)
    local = _local_accounts(jwt_entry, accounts, grants, tokens, passwords) if jwt_entry else None
    google: dict[str, IdTokenVerifier] = {}
    oauth: dict[str, OAuthFlow] = {}
    policies: dict[str, ExternalPolicy] = {}
    states = DocumentStates(documents)
    for kind, settings in entries:
        if kind == "jwt":
            continue
        name = _name(settings, kind)
        policies[name] = _external_policy(settings)
        if kind == "google":
            google[name] = _google(settings, name, google_request, env)
        if kind != "google" or settings.has("client_secret") or settings.has("secret"):
            oauth[name] = _oauth(settings, kind, name, states, env)
    authenticator = Authenticator(
        tokens,
        accounts,
        grants,
        authorize_path=authorize_path,  # the API's route: the API owns its URLs
        local=local,
        google=google,
        oauth=oauth,
        external_policies=policies,
    )
    return authenticator, authorizer


def _entries(raw: Sequence[Mapping[str, Any]], base_dir: Path | None) -> list[tuple[str, ProviderSettings]]:
    """Each entry with its type, keys checked; one jwt entry at most; unique names."""
    entries: list[tuple[str, ProviderSettings]] = []
    names: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"authentication_providers[{index}]"
        kind = str(entry.get("type", "")).strip().lower() if isinstance(entry, Mapping) else ""
        if kind not in AUTHENTICATION_TYPES:
            raise ConfigError(
                f"{where}.type must be one of {', '.join(AUTHENTICATION_TYPES)}, got {kind or 'nothing'!r}"
            )
        allowed = _JWT_KEYS if kind == "jwt" else _EXTERNAL_KEYS
        settings = ProviderSettings(entry, f"{where} (type: {kind})", allowed, base_dir)
        if kind == "jwt" and any(t == "jwt" for t, _ in entries):
            raise ConfigError(f"{where}: only one type: jwt provider may be configured")
        name = _name(settings, kind)
        if name in names:
            raise ConfigError(f"{settings.key('name')} {name!r} is used by another provider: give each a unique name")
        names.add(name)
        entries.append((kind, settings))
    return entries


def _name(settings: ProviderSettings, kind: str) -> str:
    name = (settings.text("name") or ("local" if kind == "jwt" else kind)).lower()
    if not _NAME.match(name):
        raise ConfigError(
            f"{settings.key('name')} must be lower-case letters, digits, '_' or '-' (it is used in URLs), got {name!r}"
        )
    return name


def _session_only() -> ProviderSettings:
    """Session token settings when no `type: jwt` entry exists: ZK_JWT_SECRET and the defaults."""
    return ProviderSettings(
        {}, "authentication_providers (no type: jwt entry, so session tokens need ZK_JWT_SECRET)", ()
    )


def _role(settings: ProviderSettings, default: str) -> str:
    role = settings.text("default_role") or default
    if role not in ASSIGNABLE_ROLES:
        raise ConfigError(f"{settings.key('default_role')} must be one of {', '.join(ASSIGNABLE_ROLES)}, got {role!r}")
    return role


def _local_accounts(
    settings: ProviderSettings,
    accounts: AccountStore,
    grants: GrantStore,
    tokens: TokenService,
    passwords: Passwords | None,
) -> LocalAccounts:
    if settings.has("jwt_subject"):
        log.warning("%s is ignored: each token's subject is the signed-in username", settings.key("jwt_subject"))
    policy = LocalAccountPolicy(
        public_can_create_account=settings.flag("public_can_create_account", False),
        admin_can_create_account=settings.flag("admin_can_create_account", True),
        default_role=_role(settings, "user"),
        min_password_length=settings.integer("min_password_length", MIN_PASSWORD_LENGTH, minimum=8),
    )
    limiter = LoginLimiter(
        per_account=settings.integer("max_login_attempts_per_account", 5, minimum=1),
        per_address=settings.integer("max_login_attempts_per_address", 20, minimum=1),
        window=float(settings.seconds("login_attempt_window", 900)),
    )
    name = _name(settings, "jwt")
    return LocalAccounts(accounts, grants, passwords or Passwords(), tokens, policy=policy, limiter=limiter, name=name)


def _account_documents(
    settings: ProviderSettings, documents: DocumentStore, open_database: OpenDatabase | None
) -> DocumentStore:
    """`db_path` (a JSON file) or `db_address` (a database), never both; else the server's store."""
    if settings.has("db_path") and settings.has("db_address"):
        raise ConfigError(f"{settings.where}: set db_path (a JSON file) OR db_address (a database), not both")
    if settings.has("db_path"):
        return JsonFileDocumentStore(settings.path("db_path"))
    if settings.has("db_address"):
        return _open(settings.required_text("db_address"), settings.key("db_address"), open_database)
    return documents


def _open(address: str, where: str, open_database: OpenDatabase | None) -> DocumentStore:
    if open_database is None:
        raise ConfigError(f"{where}: this server cannot open database addresses here; use db_path or leave both unset")
    return open_database(address)


def _external_policy(settings: ProviderSettings) -> ExternalPolicy:
    return ExternalPolicy(
        default_role=_role(settings, "viewer"),
        allowed_domains=settings.text_list("allowed_domains"),
        allowed_users=settings.text_list("allowed_users"),
    )


def _client_id(settings: ProviderSettings, name: str, env: Mapping[str, str]) -> str:
    value = settings.text("client_id") or settings.text("key") or env.get(f"ZK_{_env_name(name)}_CLIENT_ID", "").strip()
    if not value:
        raise ConfigError(f"{settings.key('client_id')} is missing: set it or ZK_{_env_name(name)}_CLIENT_ID")
    return value


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _google(settings: ProviderSettings, name: str, request: Any, env: Mapping[str, str]) -> IdTokenVerifier:
    from ainimal_zookeeper.adapters.auth.google import GoogleIdTokens

    return GoogleIdTokens(
        [_client_id(settings, name, env)],
        name=name,
        request=request,
        clock_skew=settings.seconds("clock_skew", 10),
        hosted_domain=settings.text("hosted_domain"),
    )


def _oauth(
    settings: ProviderSettings, kind: str, name: str, states: DocumentStates, env: Mapping[str, str]
) -> OAuthFlow:
    from ainimal_zookeeper.adapters.auth.oidc import OAuthProvider

    secret_var = f"ZK_{_env_name(name)}_CLIENT_SECRET"
    # infra/terraform exposes each provider's Secret Manager secret under this name.
    deployed_var = f"ZK_OAUTH_{_env_name(name)}_CLIENT_SECRET"
    secret = (
        settings.text("client_secret")
        or settings.text("secret")
        or env.get(secret_var, "").strip()
        or env.get(deployed_var, "").strip()
        or None
    )
    if secret is None:
        raise ConfigError(
            f"{settings.key('client_secret')} is missing: set it (e.g. ${{env.{secret_var}}}) or {secret_var}"
        )
    return OAuthProvider(
        name,
        _client_id(settings, name, env),
        secret,
        _endpoints(settings, kind),
        states,
        kind=kind,
        redirect_uri=settings.text("redirect_uri"),
        timeout=float(settings.seconds("timeout", 10)),
    )


def _endpoints(settings: ProviderSettings, kind: str) -> OAuthEndpoints:
    """The preset for `kind` with the config's overrides; `type: oidc` needs every URL."""
    preset = PRESETS.get(kind)
    fill = {key: (settings.text(key) or default).rstrip("/") for key, default in PLACEHOLDER_DEFAULTS.items()}

    def url(key: str, template: str | None) -> str:
        value = settings.text(key) or (template.format(**fill) if template else None)
        if not value or not value.startswith(("https://", "http://")):
            raise ConfigError(
                f"{settings.key(key)} must be an http(s) URL{'' if preset else ' (type: oidc has no preset)'}"
            )
        return value

    username = settings.text("username_field")
    return OAuthEndpoints(
        authorize_url=url("authorize_url", preset.authorize_url if preset else None),
        token_url=url("token_url", preset.token_url if preset else None),
        userinfo_url=url("userinfo_url", preset.userinfo_url if preset else None),
        scope=settings.text("scope") or (preset.scope if preset else "openid profile email"),
        subject_field=settings.text("subject_field") or (preset.subject_field if preset else "sub"),
        username_fields=(username,)
        if username
        else (preset.username_fields if preset else OAuthEndpoints.username_fields),
        email_field=settings.text("email_field") or "email",
        email_verified_field=preset.email_verified_field if preset else "email_verified",
    )


def _authorization(
    raw: Mapping[str, Any] | None, documents: DocumentStore, open_database: OpenDatabase | None, base_dir: Path | None
) -> tuple[GrantStore, RoleAuthorizer]:
    """The grant store and authorizer of `authorization_provider` (the server's store when absent)."""
    settings = ProviderSettings(raw or {"type": "database"}, "authorization_provider", _AUTHORIZATION_KEYS, base_dir)
    kind = (settings.text("type") or "database").lower()
    if kind == "json_file":
        store: DocumentStore = JsonFileDocumentStore(settings.path("path", "the JSON file of roles and grants"))
    elif kind == "database":
        if settings.has("path"):
            raise ConfigError(f"{settings.key('path')} belongs to type: json_file; type: database uses db_address")
        address = settings.text("db_address")
        store = _open(address, settings.key("db_address"), open_database) if address else documents
    else:
        raise ConfigError(f"{settings.key('type')} must be json_file or database, got {kind!r}")
    grants = GrantStore(store, cache_seconds=float(settings.seconds("cache_seconds", 5)))
    grants.check("authorization_provider")
    return grants, RoleAuthorizer(grants, role_actions_from_config(settings.raw.get("role_defaults")))
