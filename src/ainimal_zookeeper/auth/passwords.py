"""Password hashes: argon2id through argon2-cffi, and the rules a new password must meet.

Only hashes are ever stored; a password lives in memory for one call and is never logged or
put into an error message. The default cost is RFC 9106's "low memory" profile (64 MiB, 3
passes): slow enough to make stolen hashes expensive, fast enough (~50 ms) for sign-ins.
"""

from __future__ import annotations

import logging
import secrets

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ainimal_zookeeper.auth.usernames import fold_username
from ainimal_zookeeper.errors import InvalidInput

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "Passwords", "check_password_rules"]

log = logging.getLogger(__name__)

#: NIST SP 800-63B asks for at least 8; a shared research server deserves a bit more.
MIN_PASSWORD_LENGTH = 12
#: Long enough for any passphrase, short enough that nobody can make us hash megabytes.
MAX_PASSWORD_LENGTH = 1024


def check_password_rules(password: str, username: str, min_length: int = MIN_PASSWORD_LENGTH) -> None:
    """Refuse a new password that is too short, too long, blank or the username itself.

    Raises:
        InvalidInput: saying which rule failed (never echoing the password).
    """
    if not isinstance(password, str) or len(password) < min_length:
        raise InvalidInput(f"a password needs at least {min_length} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise InvalidInput("a password cannot be only spaces")
    if fold_username(password) == fold_username(username):
        raise InvalidInput("a password cannot be the username")


class Passwords:
    """Hashes and checks passwords; knows when a stored hash should be upgraded."""

    def __init__(self, parameters: Parameters | None = None) -> None:
        """Use `parameters` (tests pass `argon2.profiles.CHEAPEST`); RFC 9106 low-memory otherwise."""
        self._hasher = PasswordHasher.from_parameters(parameters or profiles.RFC_9106_LOW_MEMORY)
        # Checked against when the account does not exist, so that an unknown username costs
        # as much time as a wrong password and response times do not reveal which accounts exist.
        # Made on first use: hashing costs ~50 ms that a server start need not pay.
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        """The argon2id hash string (with its salt and parameters) to store."""
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidInput(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether `password` matches `stored_hash`; False (not an error) on a mismatch or bad hash."""
        if len(password) > MAX_PASSWORD_LENGTH:
            self.burn(password[:MAX_PASSWORD_LENGTH])
            return False
        try:
            return self._hasher.verify(stored_hash, password)
        except VerifyMismatchError:
            return False
        except (InvalidHashError, VerificationError):
            # A damaged record: refuse the sign-in, and tell the operator without the hash itself.
            log.warning("a stored password hash could not be read; that account cannot sign in until reset")
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters than today's and should be replaced."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return False

    def burn(self, password: str) -> None:
        """Spend the time of one verification on a hash nobody can match (unknown accounts)."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        try:
            self._hasher.verify(self._dummy_hash, password[:MAX_PASSWORD_LENGTH])
        except VerificationError:
            pass
