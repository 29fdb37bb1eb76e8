"""Passwords are stored only as argon2id hashes, verify, and refuse weak choices."""

from __future__ import annotations

import pytest
from argon2 import Parameters, Type, profiles

from ainimal_zookeeper.auth.passwords import MAX_PASSWORD_LENGTH, Passwords, check_password_rules
from ainimal_zookeeper.errors import InvalidInput

PASSWORD = "correct horse battery staple"


def test_the_default_hash_is_argon2id_without_the_password_in_it():
    stored = Passwords().hash(PASSWORD)
    assert stored.startswith("$argon2id$") and "m=65536,t=3,p=4" in stored
    assert PASSWORD not in stored and "horse" not in stored


def test_the_right_password_verifies_and_a_wrong_one_does_not(passwords):
    stored = passwords.hash(PASSWORD)
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "!")


def test_the_same_password_hashes_differently_each_time(passwords):
    assert passwords.hash(PASSWORD) != passwords.hash(PASSWORD)


def test_a_damaged_hash_refuses_instead_of_failing(passwords, caplog):
    assert not passwords.verify("$argon2id$garbage", PASSWORD)
    assert "could not be read" in caplog.text and PASSWORD not in caplog.text


def test_a_hash_with_old_parameters_asks_to_be_redone(passwords):
    old = Passwords(Parameters(Type.ID, 19, 8, 4, 1, 8, 1)).hash(PASSWORD)
    assert Passwords(profiles.RFC_9106_LOW_MEMORY).needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash(PASSWORD))


def test_an_overlong_password_is_refused_without_hashing_megabytes(passwords):
    with pytest.raises(InvalidInput, match="at most"):
        passwords.hash("x" * (MAX_PASSWORD_LENGTH + 1))
    assert not passwords.verify(passwords.hash(PASSWORD), "x" * 100_000)


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short", "at least 12"), (" " * 20, "only spaces"), ("alice-the-great", "the username"), (None, "at least")],
)
def test_weak_passwords_are_refused_without_being_repeated(password, rule):
    with pytest.raises(InvalidInput, match=rule) as caught:
        check_password_rules(password, "alice-the-great")
    assert password is None or not password.strip() or password not in str(caught.value)
