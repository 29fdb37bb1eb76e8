"""Local accounts: the configuration's creation flags, sign-in without leaking who exists, the first admin."""

from __future__ import annotations

import logging

import pytest
from argon2 import Parameters, Type

from ainimal_zookeeper.auth.accounts import Account
from ainimal_zookeeper.auth.local_accounts import LocalAccountPolicy, LocalAccounts
from ainimal_zookeeper.auth.passwords import Passwords
from ainimal_zookeeper.auth.rate_limit import LoginLimiter, LoginRateLimited
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import ConfigError, Conflict, Forbidden, InvalidInput, Unauthenticated

PASSWORD = "a long enough password"
ADMIN = Viewer("root-admin", ("admin",))
VISITOR = Viewer(None, ("anonymous",))


@pytest.fixture
def make(accounts, grants, passwords, tokens):
    def build(**policy):
        limiter = policy.pop("limiter", None)
        return LocalAccounts(accounts, grants, passwords, tokens, policy=LocalAccountPolicy(**policy), limiter=limiter)

    return build


class TestCreatingAccounts:
    def test_visitors_cannot_sign_up_unless_public_creation_is_on(self, make):
        with pytest.raises(Forbidden, match="public_can_create_account: false"):
            make().create_account("alice", PASSWORD, creator=VISITOR)

    def test_visitors_sign_up_with_the_default_role_when_allowed(self, make, grants):
        account = make(public_can_create_account=True).create_account("Alice", PASSWORD, creator=VISITOR)
        assert account.username == "alice" and grants.roles_of("alice") == ("user",)

    def test_visitors_cannot_choose_their_roles(self, make):
        local = make(public_can_create_account=True)
        with pytest.raises(Forbidden, match="only admins choose"):
            local.create_account("alice", PASSWORD, creator=VISITOR, roles=["admin"])

    def test_admins_create_accounts_with_roles_when_allowed(self, make, grants):
        make().create_account("bob", PASSWORD, creator=ADMIN, roles=["operator"])
        assert grants.roles_of("bob") == ("operator",)

    def test_admins_cannot_create_accounts_when_the_flag_is_off(self, make):
        with pytest.raises(Forbidden, match="admin_can_create_account: false"):
            make(admin_can_create_account=False).create_account("bob", PASSWORD, creator=ADMIN)

    def test_a_signed_in_non_admin_counts_as_a_visitor(self, make):
        with pytest.raises(Forbidden):
            make().create_account("bob", PASSWORD, creator=Viewer("carol", ("user",)))

    def test_a_taken_username_is_a_conflict(self, make):
        local = make()
        local.create_account("bob", PASSWORD, creator=ADMIN)
        with pytest.raises(Conflict, match="taken"):
            local.create_account("BOB", PASSWORD, creator=ADMIN)

    @pytest.mark.parametrize("name", ["ab", "has space", "a:b", "anonymous", "local", "-dash", "x" * 65, "root/x"])
    def test_bad_usernames_are_refused(self, make, name):
        with pytest.raises(InvalidInput):
            make().create_account(name, PASSWORD, creator=ADMIN)

    def test_the_password_is_stored_only_as_a_hash(self, make, documents):
        make().create_account("bob", PASSWORD, creator=ADMIN)
        stored = documents.get("users", "bob")
        assert stored["password_hash"].startswith("$argon2id$")
        assert PASSWORD not in repr(stored)

    def test_sign_ups_are_rate_limited_per_address(self, make):
        local = make(public_can_create_account=True)
        for i in range(10):
            local.create_account(f"user{i}", PASSWORD, creator=VISITOR, address="192.0.2.7")
        with pytest.raises(LoginRateLimited, match="new accounts"):
            local.create_account("user99", PASSWORD, creator=VISITOR, address="192.0.2.7")


class TestSigningIn:
    def test_the_right_password_gives_a_token_for_the_account(self, make, tokens):
        local = make()
        local.create_account("bob", PASSWORD, creator=ADMIN, roles=["viewer"])
        token, expires_at, viewer = local.login("Bob", PASSWORD, "192.0.2.1")
        assert viewer == Viewer("bob", ("viewer",))
        assert tokens.verify(token)["sub"] == "bob" and expires_at.tzinfo is not None

    def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(self, make):
        local = make()
        local.create_account("bob", PASSWORD, creator=ADMIN)
        answers = set()
        for username, password in [("bob", "wrong password!!"), ("nobody", PASSWORD), ("!!", PASSWORD)]:
            with pytest.raises(Unauthenticated) as caught:
                local.login(username, password)
            answers.add(str(caught.value))
        assert answers == {"wrong username or password"}

    def test_an_unknown_user_costs_a_hash_check_too(self, make, passwords, monkeypatch):
        burned = []
        monkeypatch.setattr(passwords, "burn", lambda password: burned.append(True))
        with pytest.raises(Unauthenticated):
            make().login("nobody", PASSWORD)
        assert burned == [True]

    def test_failures_are_rate_limited(self, make):
        local = make(limiter=LoginLimiter(per_account=2, per_address=50))
        local.create_account("bob", PASSWORD, creator=ADMIN)
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                local.login("bob", "wrong password!!", "192.0.2.1")
        with pytest.raises(LoginRateLimited):
            local.login("bob", PASSWORD, "192.0.2.1")

    def test_a_fullwidth_spelling_of_a_locked_account_is_locked_too(self, make):
        local = make(limiter=LoginLimiter(per_account=2, per_address=50))
        local.create_account("victim", PASSWORD, creator=ADMIN)
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                local.login("victim", "wrong password!!", "192.0.2.1")
        for spelling in ("\uff56\uff49\uff43\uff54\uff49\uff4d", "VICTIM", " Victim"):
            with pytest.raises(LoginRateLimited):
                local.login(spelling, PASSWORD, "192.0.2.2")

    def test_a_fullwidth_spelling_is_the_same_account_for_sign_in_and_sign_up(self, make):
        local = make()
        local.create_account("\uff56\uff49\uff43\uff54\uff49\uff4d", PASSWORD, creator=ADMIN)
        assert local.login("Victim", PASSWORD).viewer.username == "victim"
        with pytest.raises(Conflict, match="taken"):
            local.create_account("VICTIM", PASSWORD, creator=ADMIN)

    def test_right_passwords_do_not_use_up_the_address_limit(self, make):
        local = make(limiter=LoginLimiter(per_account=2, per_address=2))
        local.create_account("bob", PASSWORD, creator=ADMIN)
        for _ in range(5):
            local.login("bob", PASSWORD, "192.0.2.1")

    def test_a_disabled_account_cannot_sign_in(self, make, accounts):
        local = make()
        local.create_account("bob", PASSWORD, creator=ADMIN)
        accounts.set_disabled("bob", True)
        with pytest.raises(Unauthenticated, match="disabled"):
            local.login("bob", PASSWORD)

    def test_an_outdated_hash_is_replaced_on_sign_in(self, accounts, grants, tokens, passwords):
        LocalAccounts(accounts, grants, passwords, tokens).create_account("bob", PASSWORD, creator=ADMIN)
        before = accounts.get("bob").password_hash
        stronger = Passwords(Parameters(Type.ID, 19, 16, 16, 2, 64, 1))
        LocalAccounts(accounts, grants, stronger, tokens).login("bob", PASSWORD)
        after = accounts.get("bob").password_hash
        assert after != before and "m=64,t=2" in after and stronger.verify(after, PASSWORD)


class TestInitialAdmin:
    ENV = {"ZK_ADMIN_USERNAME": "Boss", "ZK_ADMIN_PASSWORD": PASSWORD}

    def test_the_first_admin_comes_from_the_environment(self, make, grants):
        local = make()
        assert local.ensure_initial_admin(self.ENV) == "boss"
        assert grants.roles_of("boss") == ("admin",)
        assert local.login("boss", PASSWORD).viewer.roles == ("admin",)

    def test_it_is_created_once(self, make):
        local = make()
        local.ensure_initial_admin(self.ENV)
        assert local.ensure_initial_admin({**self.ENV, "ZK_ADMIN_USERNAME": "other"}) is None

    def test_without_the_variables_the_log_says_how_to_make_one(self, make, grants, caplog):
        with caplog.at_level(logging.WARNING):
            assert make().ensure_initial_admin({}) is None
        assert "ZK_ADMIN_USERNAME and ZK_ADMIN_PASSWORD" in caplog.text
        assert grants.usernames_with_role("admin") == []

    def test_one_variable_alone_stops_the_start(self, make):
        with pytest.raises(ConfigError, match="ZK_ADMIN_PASSWORD is not set"):
            make().ensure_initial_admin({"ZK_ADMIN_USERNAME": "boss"})

    def test_a_weak_admin_password_stops_the_start(self, make):
        with pytest.raises(ConfigError, match="at least 12"):
            make().ensure_initial_admin({"ZK_ADMIN_USERNAME": "boss", "ZK_ADMIN_PASSWORD": "admin"})

    def test_an_existing_account_is_not_taken_over_with_another_password(self, make):
        local = make()
        local.create_account("boss", PASSWORD, creator=ADMIN)
        with pytest.raises(ConfigError, match="not its password"):
            local.ensure_initial_admin({"ZK_ADMIN_USERNAME": "boss", "ZK_ADMIN_PASSWORD": "another long password"})

    def test_the_password_never_reaches_the_log(self, make, caplog):
        with caplog.at_level(logging.DEBUG):
            make().ensure_initial_admin(self.ENV)
        assert PASSWORD not in caplog.text


class TestTheCreateAdminCommand:
    def test_it_creates_an_admin_when_the_name_is_free(self, make, grants, accounts):
        assert make().create_or_reset_admin("Root", PASSWORD) is True
        assert grants.roles_of("root") == ("admin",) and accounts.get("root").password_hash

    def test_it_resets_the_password_of_an_existing_account_and_keeps_its_roles(self, make, grants):
        local = make()
        local.create_account("otto", PASSWORD, creator=ADMIN, roles=["operator"])
        assert local.create_or_reset_admin("otto", "a brand new passphrase") is False
        assert grants.roles_of("otto") == ("admin", "operator")
        with pytest.raises(Unauthenticated):
            local.login("otto", PASSWORD)
        assert local.login("otto", "a brand new passphrase").viewer.roles == ("admin", "operator")

    def test_it_enables_a_disabled_account_again(self, make, accounts):
        local = make()
        local.create_account("otto", PASSWORD, creator=ADMIN)
        accounts.set_disabled("otto", True)
        local.create_or_reset_admin("otto", PASSWORD)
        assert accounts.get("otto").disabled is False

    def test_it_refuses_weak_passwords_and_outside_accounts(self, make, accounts):
        with pytest.raises(InvalidInput, match="at least 12"):
            make().create_or_reset_admin("root", "short")
        accounts.create(Account("octo", provider="github", subject="1"))
        with pytest.raises(InvalidInput, match="signs in through github"):
            make().create_or_reset_admin("octo", PASSWORD)
