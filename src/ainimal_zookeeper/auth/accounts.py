"""Accounts: who can sign in, stored in the DocumentStore (collection "users") or a JSON file.

Local accounts have an argon2id password hash; accounts of outside identities ("github:octocat")
have none and are matched on (provider, subject). Roles are not kept here but in the
authorization store (`grants.GrantStore`), which is where the operator manages them.

Signing an account out everywhere (a password change, disabling it) replaces its
`session_epoch`, a random value every token carries (claim "sep"): tokens issued before no
longer match, however close in time, and across control-plane instances whose clocks differ.
A new account gets a fresh epoch, so a recreated name does not inherit old tokens.
`tokens_valid_after` (whole seconds) turns away tokens issued before it as a second line.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ainimal_zookeeper.errors import Conflict, NotFound
from ainimal_zookeeper.ports.documents import DocumentStore

__all__ = ["USERS", "Account", "AccountStore"]

USERS = "users"


@dataclass(frozen=True)
class Account:
    """One account. `password_hash` is None for outside identities."""

    username: str
    provider: str = "local"
    subject: str | None = None
    email: str | None = None
    password_hash: str | None = None
    disabled: bool = False
    created_at: str = ""
    #: Tokens with an earlier `iat` (epoch seconds) are refused.
    tokens_valid_after: int = 0
    #: Tokens must carry this value (claim "sep"); replaced to sign the account out everywhere.
    session_epoch: str = ""

    def public_view(self) -> dict[str, Any]:
        """The account without its password hash or session epoch, for admins' listings."""
        shown = asdict(self)
        shown.pop("password_hash")
        shown.pop("session_epoch")
        return shown

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Account:
        """Read a stored account, ignoring fields this version does not know."""
        known = {name: doc[name] for name in cls.__dataclass_fields__ if name in doc}
        return cls(**known)


def new_session_epoch() -> str:
    """A fresh random session epoch (see the module docstring)."""
    return secrets.token_urlsafe(12)


class AccountStore:
    """Accounts as documents keyed by username."""

    def __init__(self, documents: DocumentStore, collection: str = USERS) -> None:
        self._documents = documents
        self._collection = collection

    def get(self, username: str) -> Account | None:
        """The account, or None."""
        doc = self._documents.get(self._collection, username)
        return Account.from_doc(doc) if doc is not None else None

    def create(self, account: Account) -> Account:
        """Store a new account, stamped with its creation time.

        Raises:
            Conflict: the username is taken.
        """
        now = time.time()
        stamped = replace(
            account,
            created_at=account.created_at or datetime.fromtimestamp(now, tz=UTC).isoformat(),
            tokens_valid_after=max(account.tokens_valid_after, int(now)),
            session_epoch=new_session_epoch(),
        )
        try:
            self._documents.create(self._collection, account.username, asdict(stamped))
        except Conflict:
            raise Conflict(f"the username {account.username!r} is taken: choose another") from None
        return stamped

    def find_external(self, provider: str, subject: str) -> Account | None:
        """The account of an outside identity, or None."""
        docs = self._documents.find(self._collection, [("provider", "==", provider), ("subject", "==", subject)])
        return Account.from_doc(docs[0]) if docs else None

    def set_password_hash(self, username: str, password_hash: str, *, sign_out: bool) -> None:
        """Store a new hash; with `sign_out`, tokens issued so far stop working."""
        fields: dict[str, Any] = {"password_hash": password_hash}
        if sign_out:
            fields.update(tokens_valid_after=int(time.time()), session_epoch=new_session_epoch())
        self._update(username, fields)

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (and sign out) or re-enable an account."""
        fields: dict[str, Any] = {"disabled": disabled}
        if disabled:
            fields.update(tokens_valid_after=int(time.time()), session_epoch=new_session_epoch())
        self._update(username, fields)

    def delete(self, username: str) -> None:
        """Remove an account (its roles and grants are the authorization store's)."""
        self._documents.delete(self._collection, username)

    def all(self) -> list[Account]:
        """Every account, by username."""
        return [Account.from_doc(doc) for doc in self._documents.find(self._collection, order_by="username")]

    def _update(self, username: str, fields: dict[str, Any]) -> None:
        try:
            self._documents.update(self._collection, username, fields)
        except NotFound:
            raise NotFound(f"there is no account {username!r}") from None
