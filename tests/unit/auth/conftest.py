"""Fixtures for the sign-in and authorization tests: cheap hashes, a token service, in-memory stores."""

from __future__ import annotations

import pytest
from argon2 import profiles

from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.auth.accounts import AccountStore
from ainimal_zookeeper.auth.grants import GrantStore
from ainimal_zookeeper.auth.passwords import Passwords
from ainimal_zookeeper.auth.tokens import TokenService

SECRET = "s" * 24 + "-test-secret-0123456789"  # 47 bytes: enough for HS256


@pytest.fixture(scope="session")
def passwords():
    # The cheapest argon2id parameters: the tests check behaviour, not cost.
    return Passwords(profiles.CHEAPEST)


@pytest.fixture
def tokens():
    return TokenService.hmac(SECRET)


@pytest.fixture
def documents():
    # The auth logic is tested on the in-memory store; the real stores pass the same contract.
    return InMemoryDocumentStore()


@pytest.fixture
def grants(documents):
    return GrantStore(documents, cache_seconds=0)


@pytest.fixture
def accounts(documents):
    return AccountStore(documents)
