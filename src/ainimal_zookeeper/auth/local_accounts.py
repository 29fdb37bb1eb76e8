"""Sign-in with a username and password (`type: jwt`): login, account creation, the first admin.

- `login` answers the same "wrong username or password" for an unknown name and a wrong
  password, and spends the same time on both (an unknown name is checked against a dummy hash),
  so neither the answer nor its timing tells which accounts exist. Failures are rate-limited
  per account and per address before any hash is computed.
- `create_account` follows the configuration's flags: visitors may sign up only with
  `public_can_create_account`; admins may create accounts (and choose roles) only with
  `admin_can_create_account`.
- `ensure_initial_admin` creates the first admin from ZK_ADMIN_USERNAME / ZK_ADMIN_PASSWORD,
  once; there is never a default password.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ainimal_zookeeper.auth.accounts import Account, AccountStore
from ainimal_zookeeper.auth.grants import check_roles
from ainimal_zookeeper.auth.passwords import MIN_PASSWORD_LENGTH, Passwords, check_password_rules
from ainimal_zookeeper.auth.rate_limit import LoginLimiter, LoginRateLimited, SlidingWindow
from ainimal_zookeeper.auth.tokens import TokenService
from ainimal_zookeeper.auth.usernames import normalize_username
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import ConfigError, Conflict, Forbidden, InvalidInput, Unauthenticated
from ainimal_zookeeper.ports.identity import Session

__all__ = [
    "ADMIN_PASSWORD_VAR",
    "ADMIN_USERNAME_VAR",
    "LocalAccountPolicy",
    "LocalAccounts",
    "RoleDirectory",
]

log = logging.getLogger(__name__)

ADMIN_USERNAME_VAR = "ZK_ADMIN_USERNAME"
ADMIN_PASSWORD_VAR = "ZK_ADMIN_PASSWORD"
WRONG_CREDENTIALS = "wrong username or password"
NO_ADMIN_HELP = (
    f"no admin account exists: set {ADMIN_USERNAME_VAR} and {ADMIN_PASSWORD_VAR} (a password of at least "
    "{min_length} characters) in the environment or .env.local and restart; the admin is created once, "
    "after which remove both variables"
)


class RoleDirectory(Protocol):
    """Where roles are kept (`grants.GrantStore`)."""

    def roles_of(self, username: str) -> tuple[str, ...]:
        """The roles of `username`."""
        ...

    def set_roles(self, username: str, roles: Iterable[str]) -> tuple[str, ...]:
        """Replace the roles of `username`."""
        ...

    def usernames_with_role(self, role: str) -> list[str]:
        """Everyone holding `role`."""
        ...


@dataclass(frozen=True)
class LocalAccountPolicy:
    """The `type: jwt` entry's account rules."""

    public_can_create_account: bool = False
    admin_can_create_account: bool = True
    #: The role of accounts visitors create, and of admin-created ones when no roles are given.
    default_role: str = "user"
    min_password_length: int = MIN_PASSWORD_LENGTH


class LocalAccounts:
    """Username-and-password accounts that sign in for a JWT."""

    def __init__(
        self,
        accounts: AccountStore,
        roles: RoleDirectory,
        passwords: Passwords,
        tokens: TokenService,
        *,
        policy: LocalAccountPolicy | None = None,
        limiter: LoginLimiter | None = None,
        signups: SlidingWindow | None = None,
        name: str = "local",
    ) -> None:
        self.name = name
        self.policy = policy or LocalAccountPolicy()
        self._accounts = accounts
        self._roles = roles
        self._passwords = passwords
        self._tokens = tokens
        self._limiter = limiter or LoginLimiter()
        # Sign-ups per address per hour: account creation costs a hash and a stored document.
        self._signups = signups or SlidingWindow(10, 3600.0)

    def login(self, username: str, password: str, address: str | None = None) -> Session:
        """A session for the right username and password.

        Raises:
            LoginRateLimited: too many recent failures for this account or address.
            Unauthenticated: wrong username or password (the same answer for both), or a
                disabled account (said only once the password was right).
        """
        username = username if isinstance(username, str) else ""
        password = password if isinstance(password, str) else ""
        self._limiter.reserve(username, address)  # counted as a failure unless the password is right
        try:
            name: str | None = normalize_username(username)
        except InvalidInput:
            name = None
        account = self._accounts.get(name) if name else None
        stored_hash = account.password_hash if account is not None else None
        if account is None or stored_hash is None:
            self._passwords.burn(password)
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not self._passwords.verify(stored_hash, password):
            raise Unauthenticated(WRONG_CREDENTIALS)
        self._limiter.succeeded(username, address)
        if account.disabled:
            raise Unauthenticated("this account is disabled: ask an admin")
        if self._passwords.needs_rehash(stored_hash):
            self._accounts.set_password_hash(account.username, self._passwords.hash(password), sign_out=False)
        return self.session_for(account)

    def session_for(self, account: Account) -> Session:
        """A fresh token for an account already known to be who it says."""
        issued = self._tokens.issue(account.username, {"idp": self.name, "sep": account.session_epoch})
        return Session(
            issued.token, issued.expires_at, Viewer(account.username, self._roles.roles_of(account.username))
        )

    def create_account(
        self,
        username: str,
        password: str,
        *,
        creator: Viewer,
        roles: Sequence[str] | None = None,
        address: str | None = None,
    ) -> Account:
        """Create a local account, if the config lets `creator` do so.

        Args:
            creator: who asks: an admin (roles may be chosen) or anyone else (a visitor
                signing up, who gets the default role).
            roles: the new account's roles; admins only.
            address: the client's address, to rate-limit sign-ups.

        Raises:
            Forbidden: the flags do not allow this creator to create accounts or choose roles.
            InvalidInput: the username or password breaks the rules.
            Conflict: the username is taken.
            LoginRateLimited: too many sign-ups from this address.
        """
        chosen = self._roles_for_new_account(creator, roles, address)
        name = normalize_username(username)
        check_password_rules(password, name, self.policy.min_password_length)
        account = self._accounts.create(Account(name, password_hash=self._passwords.hash(password)))
        self._roles.set_roles(name, chosen)
        log.info("account %r created by %s with roles %s", name, creator.username or "a visitor", ",".join(chosen))
        return account

    def set_password(self, username: str, password: str) -> None:
        """Replace a password (admin reset or the command line); signs the account out everywhere."""
        name = normalize_username(username)
        check_password_rules(password, name, self.policy.min_password_length)
        self._accounts.set_password_hash(name, self._passwords.hash(password), sign_out=True)

    def create_or_reset_admin(self, username: str, password: str) -> bool:
        """Make `username` an admin with this password: the one-time `create-admin` command.

        Creates the account, or (when it exists) replaces its password, which signs it out
        everywhere, and enables it again; either way it gets the admin role. Used by whoever
        runs the server, from its machine, when no admin can sign in.

        Returns:
            True when the account was created, False when it existed.

        Raises:
            InvalidInput: the username or password breaks the rules, or the name belongs to an
                account of an outside provider (which has no password).
        """
        name = normalize_username(username)
        check_password_rules(password, name, self.policy.min_password_length)
        existing = self._accounts.get(name)
        if existing is not None and existing.password_hash is None:
            raise InvalidInput(
                f"{name!r} signs in through {existing.provider}, not with a password: choose another name"
            )
        password_hash = self._passwords.hash(password)
        if existing is None:
            self._accounts.create(Account(name, password_hash=password_hash))
        else:
            self._accounts.set_password_hash(name, password_hash, sign_out=True)
            if existing.disabled:
                self._accounts.set_disabled(name, False)
        self._roles.set_roles(name, {*self._roles.roles_of(name), "admin"})
        log.warning("%s %r as an admin from the command line", "created" if existing is None else "reset", name)
        return existing is None

    def ensure_initial_admin(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Create the first admin from ZK_ADMIN_USERNAME / ZK_ADMIN_PASSWORD when none exists.

        Returns:
            The admin's username when one was created (or promoted) now, else None.

        Raises:
            ConfigError: only one variable is set, the values break the rules, or the username
                belongs to an existing account whose password is another.
        """
        env = os.environ if environ is None else environ
        username = env.get(ADMIN_USERNAME_VAR, "").strip()
        password = env.get(ADMIN_PASSWORD_VAR, "")
        if self._roles.usernames_with_role("admin"):
            if username or password:
                log.info(
                    "an admin exists already: %s and %s are ignored; remove them",
                    ADMIN_USERNAME_VAR,
                    ADMIN_PASSWORD_VAR,
                )
            return None
        if not username and not password:
            log.warning(NO_ADMIN_HELP.format(min_length=self.policy.min_password_length))
            return None
        if not username or not password:
            missing = ADMIN_USERNAME_VAR if not username else ADMIN_PASSWORD_VAR
            raise ConfigError(
                f"{missing} is not set: set both {ADMIN_USERNAME_VAR} and {ADMIN_PASSWORD_VAR}, or neither"
            )
        name = self._create_admin_account(username, password)
        self._roles.set_roles(name, {*self._roles.roles_of(name), "admin"})
        log.warning(
            "made %r the initial admin from %s; remove %s from the environment now",
            name,
            ADMIN_USERNAME_VAR,
            ADMIN_PASSWORD_VAR,
        )
        return name

    def _create_admin_account(self, username: str, password: str) -> str:
        try:
            name = normalize_username(username)
            check_password_rules(password, name, self.policy.min_password_length)
        except InvalidInput as exc:
            raise ConfigError(f"{ADMIN_USERNAME_VAR} / {ADMIN_PASSWORD_VAR}: {exc}") from None
        try:
            self._accounts.create(Account(name, password_hash=self._passwords.hash(password)))
        except Conflict:
            existing = self._accounts.get(name)
            if (
                existing is None
                or existing.password_hash is None
                or not self._passwords.verify(existing.password_hash, password)
            ):
                raise ConfigError(
                    f"{ADMIN_USERNAME_VAR} names the existing account {name!r} and {ADMIN_PASSWORD_VAR} is not its "
                    "password: choose another name for the initial admin"
                ) from None
        return name

    def _roles_for_new_account(
        self, creator: Viewer, roles: Sequence[str] | None, address: str | None
    ) -> tuple[str, ...]:
        if creator.username is not None and "admin" in creator.roles:
            if not self.policy.admin_can_create_account:
                raise Forbidden("admins may not create accounts on this server (admin_can_create_account: false)")
            return check_roles(roles) if roles is not None else (self.policy.default_role,)
        if not self.policy.public_can_create_account:
            raise Forbidden(
                "this server does not let visitors create accounts (public_can_create_account: false): ask an admin"
            )
        if roles is not None and set(roles) - {self.policy.default_role}:
            raise Forbidden("only admins choose the roles of new accounts")
        if address:
            wait = self._signups.try_hit(address)  # checked and counted in one step
            if wait > 0:
                raise LoginRateLimited(
                    f"too many new accounts from your address: try again in {int(wait) + 1} s", int(wait) + 1
                )
        return (self.policy.default_role,)
