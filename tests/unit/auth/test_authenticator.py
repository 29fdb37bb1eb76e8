"""Sign-in built from the config: viewers from headers, sessions from every provider, clear start errors."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from google_stand_in import CLIENT_ID as GOOGLE_CLIENT_ID
from google_stand_in import CertsTransport, KeyPair
from oauth_stand_in import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, StandInProvider

from ainimal_zookeeper.auth import Administration, OpenAuthenticator
from ainimal_zookeeper.auth import accounts as accounts_module
from ainimal_zookeeper.auth.open_access import OpenAuthorizer
from ainimal_zookeeper.auth.tokens import TokenService
from ainimal_zookeeper.bootstrap.authentication import build_authentication
from ainimal_zookeeper.domain.access import ANONYMOUS, LOCAL_OPERATOR, Resource, Viewer
from ainimal_zookeeper.errors import ConfigError, Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from conftest import SECRET

PASSWORD = "a long enough password"
JWT = {"type": "jwt", "jwt_secret": SECRET}


@pytest.fixture
def build(documents, passwords):
    def make(providers, authorization=None, environ=None, **kwargs):
        return build_authentication(
            False, providers, authorization, documents, environ=environ or {}, passwords=passwords, **kwargs
        )

    return make


@pytest.fixture
def local(build):
    authenticator, authorizer = build([JWT])
    authenticator.ensure_initial_admin({"ZK_ADMIN_USERNAME": "boss", "ZK_ADMIN_PASSWORD": PASSWORD})
    return authenticator, authorizer


def bearer(session):
    return f"Bearer {session.token}"


class TestViewerFor:
    def test_no_header_is_the_anonymous_viewer(self, local):
        assert local[0].viewer_for(None) == ANONYMOUS == Viewer(None, ("anonymous",))

    def test_a_valid_token_is_its_account_with_current_roles(self, local):
        authenticator, _ = local
        session = authenticator.login("boss", PASSWORD)
        assert authenticator.viewer_for(bearer(session)) == Viewer("boss", ("admin",))
        authenticator.roles.set_roles("boss", ["admin", "operator"])
        assert authenticator.viewer_for(bearer(session)).roles == ("admin", "operator")

    @pytest.mark.parametrize("header", ["Basic Ym9zczpwdw==", "Bearer", "Bearer a b", "Bearer not-a-jwt"])
    def test_bad_headers_are_unauthenticated(self, local, header):
        with pytest.raises(Unauthenticated):
            local[0].viewer_for(header)

    def test_a_token_signed_by_another_server_is_unauthenticated(self, local):
        other = TokenService.hmac("another-secret-that-is-long-enough-0123456789")
        with pytest.raises(Unauthenticated, match="signature"):
            local[0].viewer_for(f"Bearer {other.issue('boss').token}")

    def test_a_token_of_a_deleted_account_is_unauthenticated(self, local):
        authenticator, _ = local
        authenticator.create_account("temp", PASSWORD, creator=Viewer("boss", ("admin",)))
        session = authenticator.login("temp", PASSWORD)
        authenticator.accounts.delete("temp")
        authenticator.forget("temp")
        with pytest.raises(Unauthenticated, match="no longer exists"):
            authenticator.viewer_for(bearer(session))

    def test_disabling_an_account_signs_it_out(self, local):
        authenticator, authorizer = local
        admin = Viewer("boss", ("admin",))
        authenticator.create_account("temp", PASSWORD, creator=admin)
        session = authenticator.login("temp", PASSWORD)
        administration = Administration(authenticator.roles, authenticator.accounts, authorizer, authenticator.forget)
        administration.disable_account(admin, "temp")
        with pytest.raises(Unauthenticated):
            authenticator.viewer_for(bearer(session))

    def test_a_token_older_than_a_password_change_is_revoked(self, local):
        authenticator, _ = local
        earlier = TokenService.hmac(SECRET, clock=lambda: time.time() - 5).issue("boss")
        authenticator.set_password("boss", "another long password")
        with pytest.raises(Unauthenticated, match="revoked"):
            authenticator.viewer_for(f"Bearer {earlier.token}")
        assert authenticator.viewer_for(bearer(authenticator.login("boss", "another long password"))).username == "boss"

    def test_a_password_change_revokes_earlier_tokens_whatever_the_clocks_say(self, local, monkeypatch):
        authenticator, _ = local
        session = authenticator.login("boss", PASSWORD)
        # A revocation stamped in the same second as the token (or by a control plane whose
        # clock is behind) must still revoke it: the session epoch does, not the time.
        monkeypatch.setattr(accounts_module, "time", SimpleNamespace(time=lambda: 0.0))
        authenticator.set_password("boss", "another long password")
        with pytest.raises(Unauthenticated, match="revoked"):
            authenticator.viewer_for(bearer(session))


class TestBuilding:
    def test_no_auth_runs_open_and_says_so_loudly(self, documents, caplog):
        with caplog.at_level(logging.WARNING):
            authenticator, authorizer = build_authentication(True, [JWT], None, documents)
        assert isinstance(authenticator, OpenAuthenticator) and isinstance(authorizer, OpenAuthorizer)
        assert authenticator.viewer_for("Bearer whatever") == LOCAL_OPERATOR
        assert "RUNS OPEN" in caplog.text and "ignored" in caplog.text
        with pytest.raises(InvalidInput, match="runs open"):
            authenticator.login("a", "b")

    def test_auth_without_providers_stops_the_start(self, build):
        with pytest.raises(ConfigError, match="authentication_providers is empty"):
            build([])

    @pytest.mark.parametrize(
        ("providers", "message"),
        [
            ([{"type": "kerberos"}], r"authentication_providers\[0\].type must be one of"),
            (
                [{"type": "jwt"}],
                r"authentication_providers\[0\].jwt_secret is missing: set the environment variable ZK_JWT_SECRET",
            ),
            ([JWT, {"type": "jwt", "jwt_secret": SECRET}], r"\[1\]: only one type: jwt"),
            ([{**JWT, "jwt_expires": "1h"}], r"\[0\] \(type: jwt\) has unknown key\(s\) jwt_expires"),
            ([{**JWT, "public_can_create_account": "maybe"}], "public_can_create_account expects true or false"),
            ([{**JWT, "db_path": "a.json", "db_address": "sqlite:///a.db"}], "OR db_address"),
            ([{**JWT, "default_role": "god"}], "default_role must be one of"),
            ([JWT, {"type": "github", "client_id": "x"}], r"\[1\].client_secret is missing.*ZK_GITHUB_CLIENT_SECRET"),
            ([JWT, {"type": "google"}], r"\[1\].client_id is missing"),
            ([JWT, {"type": "oidc", "client_id": "x", "client_secret": "y"}], r"\[1\].authorize_url must be an http"),
            ([JWT, {"type": "github", "name": "Git Hub", "client_id": "x", "client_secret": "y"}], "lower-case"),
            (
                [
                    JWT,
                    {"type": "github", "client_id": "x", "client_secret": "y"},
                    {"type": "github", "client_id": "x", "client_secret": "y"},
                ],
                "unique name",
            ),
        ],
    )
    def test_bad_entries_name_the_entry_and_key(self, build, providers, message):
        with pytest.raises(ConfigError, match=message):
            build(providers)

    @pytest.mark.parametrize(
        ("authorization", "message"),
        [
            ({"type": "ldap"}, "must be json_file or database"),
            ({"type": "json_file"}, "authorization_provider.path is required"),
            ({"type": "database", "path": "x"}, "belongs to type: json_file"),
            ({"type": "database", "db_address": "sqlite:///x"}, "cannot open database addresses"),
            ({"type": "json_file", "path": "x.json", "role_defaults": {"user": {"model": ["fly"]}}}, "unknown action"),
        ],
    )
    def test_bad_authorization_providers_are_named(self, build, tmp_path, monkeypatch, authorization, message):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ConfigError, match=message):
            build([JWT], authorization)

    def test_accounts_and_grants_can_live_in_json_files(self, build, tmp_path):
        users, auth = tmp_path / "users.json", tmp_path / "auth.json"
        authenticator, _ = build([{**JWT, "db_path": str(users)}], {"type": "json_file", "path": str(auth)})
        authenticator.ensure_initial_admin({"ZK_ADMIN_USERNAME": "boss", "ZK_ADMIN_PASSWORD": PASSWORD})
        assert "boss" in users.read_text() and PASSWORD not in users.read_text()
        assert '"admin"' in auth.read_text()

    def test_relative_paths_are_read_against_the_config_folder(self, build, tmp_path):
        authenticator, _ = build(
            [{**JWT, "db_path": "users.json"}], {"type": "json_file", "path": "auth.json"}, base_dir=tmp_path
        )
        authenticator.ensure_initial_admin({"ZK_ADMIN_USERNAME": "boss", "ZK_ADMIN_PASSWORD": PASSWORD})
        assert (tmp_path / "users.json").is_file() and (tmp_path / "auth.json").is_file()

    def test_a_database_address_is_opened_by_the_composition_root(self, build, tmp_path):
        from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore

        opened = []

        def open_database(address):
            opened.append(address)
            return SqliteDocumentStore(tmp_path / "users.db")

        build([{**JWT, "db_address": "sqlite:///users.db"}], open_database=open_database)
        assert opened == ["sqlite:///users.db"]

    def test_string_flags_from_the_environment_are_read(self, build):
        authenticator, _ = build([{**JWT, "public_can_create_account": "true", "jwt_expires_in": "2h"}])
        assert authenticator.providers_for_client()[0]["canCreateAccount"] is True
        assert authenticator.tokens.policy.expires_in == 7200

    def test_without_a_jwt_entry_sessions_need_zk_jwt_secret(self, build):
        github = {"type": "github", "client_id": "x", "client_secret": "y"}
        with pytest.raises(ConfigError, match="ZK_JWT_SECRET"):
            build([github])
        authenticator, _ = build([github], environ={"ZK_JWT_SECRET": SECRET})
        assert authenticator.local is None
        with pytest.raises(InvalidInput, match="no username-and-password"):
            authenticator.login("a", "b")


class TestProvidersForClient:
    def test_each_provider_is_listed_without_secrets(self, build):
        authenticator, _ = build(
            [
                JWT,
                {"type": "google", "client_id": "g-id"},
                {"type": "github", "client_id": "gh-id", "client_secret": "gh-secret"},
                {
                    "type": "gitlab",
                    "name": "work",
                    "key": "gl-id",
                    "secret": "gl-secret",
                    "base_url": "https://git.example",
                },
            ]
        )
        assert authenticator.providers_for_client() == [
            {"type": "jwt", "name": "local", "canCreateAccount": False},
            {"type": "google", "name": "google", "clientId": "g-id"},
            {"type": "github", "name": "github", "authorizePath": "/auth/github/authorize"},
            {"type": "gitlab", "name": "work", "authorizePath": "/auth/work/authorize"},
        ]
        assert authenticator.oauth["work"].endpoints.token_url == "https://git.example/oauth/token"

    def test_client_secrets_may_come_from_the_environment(self, build):
        authenticator, _ = build(
            [JWT, {"type": "microsoft", "client_id": "ms", "tenant": "contoso"}],
            environ={"ZK_MICROSOFT_CLIENT_SECRET": "from-env"},
        )
        flow = authenticator.oauth["microsoft"]
        assert flow._client_secret == "from-env" and "/contoso/" in flow.endpoints.authorize_url

    def test_client_secrets_may_come_from_the_variables_the_terraform_deployment_sets(self, build):
        authenticator, _ = build(
            [JWT, {"type": "github", "client_id": "gh"}],
            environ={"ZK_OAUTH_GITHUB_CLIENT_SECRET": "from-secret-manager"},
        )
        assert authenticator.oauth["github"]._client_secret == "from-secret-manager"


class TestOutsideSignIn:
    @pytest.fixture
    def stand_in(self):
        with StandInProvider() as provider:
            yield provider

    @pytest.fixture
    def github(self, build, stand_in):
        entry = {
            "type": "github",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "authorize_url": f"{stand_in.url}/authorize",
            "token_url": f"{stand_in.url}/token",
            "userinfo_url": f"{stand_in.url}/userinfo",
        }

        def make(**extra):
            return build([JWT, {**entry, **extra}])[0]

        return make

    def sign_in(self, authenticator):
        url, state = authenticator.start_sign_in("github", REDIRECT_URI)
        location = httpx.get(url, follow_redirects=False).headers["location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        return authenticator.finish_sign_in("github", code, state, REDIRECT_URI)

    def test_a_first_sign_in_makes_an_account_with_the_default_role(self, github):
        authenticator = github()
        session = self.sign_in(authenticator)
        assert session.viewer == Viewer("github:octocat", ("viewer",))
        assert authenticator.viewer_for(bearer(session)) == session.viewer
        assert authenticator.accounts.get("github:octocat").subject == "583231"

    def test_the_next_sign_in_finds_the_same_account_even_after_a_rename(self, github, stand_in):
        authenticator = github(default_role="user")
        self.sign_in(authenticator)
        stand_in.profile["login"] = "renamed"
        assert self.sign_in(authenticator).viewer.username == "github:octocat"

    def test_an_allow_list_refuses_others(self, github):
        with pytest.raises(Forbidden, match="allowed users"):
            self.sign_in(github(allowed_users=["someone-else"]))
        assert self.sign_in(github(allowed_users="octocat,other")).viewer.username == "github:octocat"

    def test_allowed_domains_need_a_verified_email(self, github):
        with pytest.raises(Forbidden, match="example.org"):
            self.sign_in(github(allowed_domains=["example.org"]))  # GitHub's profile email is not verified

    def test_an_outside_identity_can_be_the_initial_admin(self, github):
        authenticator = github()
        assert authenticator.ensure_initial_admin({"ZK_ADMIN_USERNAME": "github:octocat"}) is None
        assert self.sign_in(authenticator).viewer.roles == ("admin", "viewer")

    def test_an_unknown_provider_is_not_found(self, github):
        with pytest.raises(NotFound, match="no sign-in provider 'gitlab'"):
            github().start_sign_in("gitlab", REDIRECT_URI)

    def test_google_id_tokens_sign_in(self, build):
        key = KeyPair("kid-9")
        authenticator, _ = build(
            [JWT, {"type": "google", "client_id": GOOGLE_CLIENT_ID}], google_request=CertsTransport(key)
        )
        session = authenticator.sign_in_with_google(key.sign())
        assert session.viewer == Viewer("google:ada@example.org", ("viewer",))
        with pytest.raises(Unauthenticated):
            authenticator.sign_in_with_google(key.sign(aud="other"))


class TestAdministration:
    @pytest.fixture
    def admin(self, local):
        authenticator, authorizer = local
        return Administration(authenticator.roles, authenticator.accounts, authorizer), authenticator

    def test_admins_manage_roles_and_grants(self, admin):
        administration, authenticator = admin
        boss = Viewer("boss", ("admin",))
        authenticator.create_account("otto", PASSWORD, boss, roles=["operator"])
        administration.grant(boss, "otto", "model", "cartpole", ["view"])
        assert [g.resource for g in administration.list_grants(boss)] == ["cartpole"]
        assert administration.set_roles(boss, "otto", ["user"]) == ("user",)
        assert {a["username"]: a["roles"] for a in administration.list_accounts(boss)} == {
            "boss": ["admin"],
            "otto": ["user"],
        }
        assert all("password_hash" not in a for a in administration.list_accounts(boss))

    def test_operators_grant_on_resources_but_not_roles(self, admin):
        administration, _ = admin
        otto = Viewer("otto", ("operator",))
        administration.grant(otto, "bob", "instance", "i-1", ["view"])
        with pytest.raises(Forbidden):
            administration.set_roles(otto, "bob", ["admin"])

    def test_users_cannot_grant(self, admin):
        administration, _ = admin
        with pytest.raises(Forbidden):
            administration.grant(Viewer("ursula", ("user",)), "ursula", "model", "*", ["manage"])

    def test_the_last_admin_stays(self, admin):
        administration, _ = admin
        boss = Viewer("boss", ("admin",))
        with pytest.raises(Conflict, match="only admin"):
            administration.set_roles(boss, "boss", ["user"])
        with pytest.raises(Conflict, match="only admin"):
            administration.disable_account(boss, "boss")

    def test_a_look_alike_spelling_names_the_same_account_for_roles_grants_and_the_last_admin(self, admin):
        administration, authenticator = admin
        boss = Viewer("boss", ("admin",))
        fullwidth_boss = "\uff42\uff4f\uff53\uff53"  # ｂｏｓｓ
        with pytest.raises(Conflict, match="only admin"):
            administration.disable_account(boss, fullwidth_boss)
        with pytest.raises(Conflict, match="only admin"):
            administration.set_roles(boss, "BOSS", ["user"])
        authenticator.create_account("otto", PASSWORD, boss)
        assert administration.set_roles(boss, "\uff2f\uff34\uff34\uff2f", ["operator"]) == ("operator",)  # ＯＴＴＯ
        administration.grant(boss, "Otto", "model", "m", ["launch"])
        assert authenticator.roles.roles_of("otto") == ("operator",)
        assert [g.subject for g in administration.list_grants(boss, subject="OTTO")] == ["otto"]

    def test_a_deleted_account_leaves_no_roles_or_grants_behind(self, admin):
        administration, authenticator = admin
        boss = Viewer("boss", ("admin",))
        authenticator.create_account("temp", PASSWORD, boss)
        administration.grant(boss, "temp", "model", "m", ["launch"])
        administration.delete_account(boss, "temp")
        assert authenticator.roles.roles_of("temp") == () and administration.list_grants(boss) == []
        assert authenticator.accounts.get("temp") is None

    def test_the_authorizer_reads_the_same_grants(self, local):
        authenticator, authorizer = local
        authenticator.roles.grant("vic", "instance", "i-7", ["control"])
        authenticator.roles.invalidate()
        assert authorizer.allows(Viewer("vic", ("viewer",)), "control", Resource("instance", "i-7"))
