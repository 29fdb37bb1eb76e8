"""The one object the HTTP layer and the resolvers ask about sign-in.

- `viewer_for(header)`: who sends a request. No header: the anonymous viewer. A header that is
  malformed, or a token that is expired, forged, revoked or for a vanished account:
  `Unauthenticated` (HTTP 401), and nothing else runs.
- `login`, `create_account`: local accounts (`type: jwt`).
- `sign_in_with_google(id_token)`: Google Identity Services' ID token.
- `start_sign_in` / `finish_sign_in`: the OAuth 2 code flow of GitHub, GitLab, Microsoft, ...
- `providers_for_client()`: what a sign-in screen may offer.

Every sign-in ends in this server's own session token; roles are looked up per request (from a
snapshot a few seconds old at most), so a role change or a disabled account takes effect
without waiting for tokens to expire.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ainimal_zookeeper.auth.accounts import Account, AccountStore
from ainimal_zookeeper.auth.grants import GrantStore
from ainimal_zookeeper.auth.local_accounts import ADMIN_USERNAME_VAR, LocalAccounts
from ainimal_zookeeper.auth.tokens import TokenService, bearer_token
from ainimal_zookeeper.auth.usernames import external_username, fold_username
from ainimal_zookeeper.domain.access import ANONYMOUS, Viewer
from ainimal_zookeeper.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from ainimal_zookeeper.ports.identity import ExternalIdentity, IdTokenVerifier, OAuthFlow, Session

__all__ = ["Authenticator", "ExternalPolicy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExternalPolicy:
    """Who from an outside provider may sign in, and with which role at first."""

    #: The role given to an outside identity the first time it signs in.
    default_role: str = "viewer"
    #: When set, only verified emails of these domains may sign in.
    allowed_domains: tuple[str, ...] = ()
    #: When set, only these provider usernames or verified emails may sign in.
    allowed_users: tuple[str, ...] = ()


class Authenticator:
    """Turns credentials into viewers and sessions for every configured provider."""

    def __init__(
        self,
        tokens: TokenService,
        accounts: AccountStore,
        roles: GrantStore,
        *,
        authorize_path: Callable[[str], str],
        local: LocalAccounts | None = None,
        google: Mapping[str, IdTokenVerifier] | None = None,
        oauth: Mapping[str, OAuthFlow] | None = None,
        external_policies: Mapping[str, ExternalPolicy] | None = None,
        account_cache_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        tokens: issues and checks this server's session tokens.
        accounts: every account, local and outside.
        roles: where roles are kept (the authorization store).
        authorize_path: where the HTTP API starts a provider's code flow (the API's route,
            told to sign-in screens as `authorizePath`).
        local: username-and-password sign-in, when a `type: jwt` provider is configured.
        google: Google ID token verifiers by provider name (`adapters.auth.google.GoogleIdTokens`).
        oauth: code-flow providers by name (`adapters.auth.oidc.OAuthProvider`).
        external_policies: per outside provider name, who may sign in.
        account_cache_seconds: how long an account lookup for `viewer_for` is reused.
        """
        self.tokens = tokens
        self.accounts = accounts
        self.roles = roles
        self._authorize_path = authorize_path
        self.local = local
        self.google: Mapping[str, IdTokenVerifier] = dict(google or {})
        self.oauth: Mapping[str, OAuthFlow] = dict(oauth or {})
        self._policies = dict(external_policies or {})
        self._cache_seconds = account_cache_seconds
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Account | None]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._pending_admin: str | None = None

    # --- requests --------------------------------------------------------------------------

    def viewer_for(self, authorization_header: str | None) -> Viewer:
        """The viewer of a request, from its Authorization header.

        Raises:
            Unauthenticated: a malformed header, a refused token, or an account that no longer
                exists, is disabled, or was signed out after the token was issued.
        """
        token = bearer_token(authorization_header)
        if token is None:
            return ANONYMOUS
        claims = self.tokens.verify(token)
        username = claims["sub"]
        account = self._account(username)
        if account is None or account.disabled:
            raise Unauthenticated("the account of this token no longer exists or is disabled: sign in again")
        if int(claims["iat"]) < account.tokens_valid_after or claims.get("sep") != account.session_epoch:
            raise Unauthenticated("this token was revoked (password change or sign-out): sign in again")
        return Viewer(username, self.roles.roles_of(username))

    # --- local accounts --------------------------------------------------------------------

    def login(self, username: str, password: str, address: str | None = None) -> Session:
        """Sign in with a username and password; see `LocalAccounts.login`."""
        return self._local().login(username, password, address)

    def create_account(
        self,
        username: str,
        password: str,
        creator: Viewer,
        roles: Sequence[str] | None = None,
        address: str | None = None,
    ) -> Viewer:
        """Create a local account; see `LocalAccounts.create_account`. Returns the new viewer."""
        account = self._local().create_account(username, password, creator=creator, roles=roles, address=address)
        self.forget(account.username)
        return Viewer(account.username, self.roles.roles_of(account.username))

    def set_password(self, username: str, password: str) -> None:
        """Replace a local password (admin reset or the command line); signs the account out everywhere."""
        self._local().set_password(username, password)
        self.forget(username)

    def create_or_reset_admin(self, username: str, password: str) -> bool:
        """The `create-admin` command: see `LocalAccounts.create_or_reset_admin`; True when created."""
        created = self._local().create_or_reset_admin(username, password)
        self.forget(username)
        return created

    # --- outside providers -----------------------------------------------------------------

    def sign_in_with_google(self, id_token: str, provider: str | None = None) -> Session:
        """Sign in with a Google ID token (from Google Identity Services in the browser)."""
        name = provider or next(iter(self.google), None)
        verifier = self.google.get(name or "")
        if name is None or verifier is None:
            raise InvalidInput("Google sign-in is not configured on this server")
        return self._session_for(verifier.verify(id_token))

    def start_sign_in(self, provider: str, redirect_uri: str | None = None) -> tuple[str, str]:
        """The provider URL to send the browser to, and the state; see `ports.identity.OAuthFlow`."""
        return self._flow(provider).authorization_url(redirect_uri)

    def finish_sign_in(
        self,
        provider: str,
        code: str | None,
        state: str | None,
        redirect_uri: str | None = None,
        error: str | None = None,
    ) -> Session:
        """A session for the person the provider's callback names."""
        return self._session_for(self._flow(provider).complete(code, state, redirect_uri, error))

    def redirect_uri_for(self, provider: str) -> str | None:
        """The callback URL the config fixes for `provider`, or None (the HTTP layer derives it)."""
        flow = self.oauth.get(provider)
        return getattr(flow, "redirect_uri", None) if flow is not None else None

    def providers_for_client(self) -> list[dict[str, Any]]:
        """What a sign-in screen may show: one entry per provider, no secrets."""
        entries: list[dict[str, Any]] = []
        if self.local is not None:
            entries.append(
                {
                    "type": "jwt",
                    "name": self.local.name,
                    "canCreateAccount": self.local.policy.public_can_create_account,
                }
            )
        for name, verifier in self.google.items():
            entry: dict[str, Any] = {"type": "google", "name": name, "clientId": verifier.client_ids[0]}
            if name in self.oauth:
                entry["authorizePath"] = self._authorize_path(name)
            entries.append(entry)
        for name, flow in self.oauth.items():
            if name not in self.google:
                entries.append({"type": flow.kind, "name": name, "authorizePath": self._authorize_path(name)})
        return entries

    def ensure_initial_admin(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Make the first admin from ZK_ADMIN_USERNAME (/ ZK_ADMIN_PASSWORD) when none exists.

        A local name needs the password too (see `LocalAccounts.ensure_initial_admin`). An outside
        name such as "github:octocat" needs none: that account becomes admin at once if it
        exists, or when it first signs in. Use it only with providers whose names are unique
        (GitHub logins, verified Google emails).
        """
        env = os.environ if environ is None else environ
        wanted = fold_username(env.get(ADMIN_USERNAME_VAR, ""))
        if ":" not in wanted:
            if self.local is not None:
                return self.local.ensure_initial_admin(env)
            if not self.roles.usernames_with_role("admin"):
                log.warning(
                    "no admin exists: set %s to an outside identity such as 'github:yourlogin' and restart, "
                    "or add it with the admin role to the authorization store",
                    ADMIN_USERNAME_VAR,
                )
            return None
        if self.roles.usernames_with_role("admin"):
            return None
        if self.accounts.get(wanted) is None:
            self._pending_admin = wanted
            log.warning("%r becomes the initial admin when it first signs in", wanted)
            return None
        self.roles.set_roles(wanted, {*self.roles.roles_of(wanted), "admin"})
        log.warning("made %r the initial admin from %s", wanted, ADMIN_USERNAME_VAR)
        return wanted

    # --- internals -------------------------------------------------------------------------

    def _session_for(self, identity: ExternalIdentity) -> Session:
        policy = self._policies.get(identity.provider, ExternalPolicy())
        _check_allowed(identity, policy)
        account = self.accounts.find_external(identity.provider, identity.subject)
        if account is None:
            account = self._provision(identity, policy)
        if account.disabled:
            raise Unauthenticated("this account is disabled: ask an admin")
        issued = self.tokens.issue(account.username, {"idp": identity.provider, "sep": account.session_epoch})
        return Session(issued.token, issued.expires_at, Viewer(account.username, self.roles.roles_of(account.username)))

    def _provision(self, identity: ExternalIdentity, policy: ExternalPolicy) -> Account:
        """The account of an outside identity signing in for the first time."""
        suggestion = identity.username
        if suggestion and "@" in suggestion and not identity.email_verified:
            suggestion = None  # an unverified address could be anyone's
        base = external_username(identity.provider, suggestion, identity.subject)
        suffix = hashlib.sha256(identity.subject.encode()).hexdigest()[:8]
        for candidate in (base, f"{base}-{suffix}"):
            try:
                account = self.accounts.create(
                    Account(candidate, provider=identity.provider, subject=identity.subject, email=identity.email)
                )
                break
            except Conflict:
                continue
        else:
            raise Conflict(f"could not find a free username for this {identity.provider} account: ask an admin")
        # Replace whatever a former account of this name held: roles are not inherited.
        roles = {policy.default_role}
        if self._pending_admin == account.username and not self.roles.usernames_with_role("admin"):
            roles.add("admin")
            self._pending_admin = None
            log.warning("made %r the initial admin from %s", account.username, ADMIN_USERNAME_VAR)
        self.roles.set_roles(account.username, roles)
        self.forget(account.username)
        return account

    def _local(self) -> LocalAccounts:
        if self.local is None:
            raise InvalidInput("this server has no username-and-password sign-in (no type: jwt provider)")
        return self.local

    def _flow(self, provider: str) -> OAuthFlow:
        flow = self.oauth.get(provider)
        if flow is None:
            known = ", ".join(self.oauth) or "none"
            raise NotFound(f"there is no sign-in provider {provider!r} here (configured: {known})")
        return flow

    def _account(self, username: str) -> Account | None:
        now = self._clock()
        with self._cache_lock:
            cached = self._cache.get(username)
            if cached is not None and now - cached[0] < self._cache_seconds:
                return cached[1]
        account = self.accounts.get(username)
        with self._cache_lock:
            self._cache[username] = (now, account)
            self._cache.move_to_end(username)
            while len(self._cache) > 10_000:
                self._cache.popitem(last=False)
        return account

    def forget(self, username: str) -> None:
        """Drop the cached account, so a change made here (disable, delete, password) applies at once."""
        with self._cache_lock:
            self._cache.pop(username, None)


def _check_allowed(identity: ExternalIdentity, policy: ExternalPolicy) -> None:
    """Refuse identities outside the configured domains or user list."""
    email = fold_username(identity.email or "") if identity.email_verified else ""
    if policy.allowed_domains:
        domain = email.rpartition("@")[2] if "@" in email else ""
        if domain not in {fold_username(d) for d in policy.allowed_domains}:
            raise Forbidden(
                f"only verified {identity.provider} accounts of {', '.join(policy.allowed_domains)} may sign in here"
            )
    if policy.allowed_users:
        username = identity.username or ""
        trusted = username if "@" not in username or identity.email_verified else ""
        names = {fold_username(trusted), email} - {""}
        if not names & {fold_username(u) for u in policy.allowed_users}:
            raise Forbidden(f"this {identity.provider} account is not on this server's list of allowed users")
