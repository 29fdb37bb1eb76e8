"""The web client on a server with sign-in: each role sees only what it may do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from support import REPO, ServerProcess, free_port

sys.path.insert(0, str(REPO / "tests" / "unit" / "auth"))  # the OAuth stand-in lives with the unit tests
from oauth_stand_in import CLIENT_SECRET, StandInProvider

CONFIG = Path(__file__).parent / "signin_zoo.yaml"
PASSWORD = "correct horse battery staple"
ACCOUNTS = {"otto": ["operator"], "val": ["viewer"]}
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
CREATE = "mutation($u: String!, $p: String!, $r: [String!]) { createAccount(username: $u, password: $p, roles: $r) { username } }"


class SignInServer(ServerProcess):
    """The server with signin_zoo.yaml, its secrets in the environment, and the client."""

    def __init__(self, data_dir: Path, env: dict[str, str], port: int) -> None:
        self.port = port
        args = [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(CONFIG), "--data", str(data_dir)]
        self._launch([*args, "--port", str(self.port), "--client"], data_dir.parent, {**os.environ, **env})

    def as_user(self, username: str) -> dict[str, str]:
        token = self.gql(LOGIN, {"u": username, "p": PASSWORD})["login"]["token"]
        return {"Authorization": f"Bearer {token}"}

    def gql_as(self, headers: dict[str, str], query: str, variables: dict | None = None) -> dict:
        body = self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers).json()
        assert not body.get("errors"), body
        return body["data"]


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[StandInProvider, int]]:
    """A GitHub-shaped OAuth provider on this machine, and the port the server will listen on."""
    port = free_port()
    with StandInProvider(redirect_uri=f"http://127.0.0.1:{port}/auth/github/callback") as stand_in:
        yield stand_in, port


@pytest.fixture(scope="module")
def zoo(tmp_path_factory, provider) -> Iterator[tuple[SignInServer, dict[str, str]]]:
    stand_in, port = provider
    env = {
        "ZK_TEST_JWT_SECRET": "client-tests-" + "s" * 40,
        "ZK_TEST_GITHUB_SECRET": CLIENT_SECRET,
        "ZK_TEST_OAUTH_URL": stand_in.url,
        "ZK_TEST_OAUTH_REDIRECT": stand_in.redirect_uri,
    }
    data = tmp_path_factory.mktemp("zk-client-sign-in") / "data"
    made = subprocess.run(
        [sys.executable, "-m", "ainimal_zookeeper.server", "create-admin", "--config", str(CONFIG), "--data", str(data)]
        + ["--username", "boss"],
        env={**os.environ, **env, "ZK_ADMIN_PASSWORD": PASSWORD},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert made.returncode == 0, made.stderr
    server = SignInServer(data, env, port)
    admin = server.as_user("boss")
    for username, roles in ACCOUNTS.items():
        server.gql_as(admin, CREATE, {"u": username, "p": PASSWORD, "r": roles})
    launch = "mutation($input: LaunchInput!) { launch(input: $input) { id status } }"
    private = server.gql_as(admin, launch, {"input": {"model": "Balancer", "environment": "CartPole"}})["launch"]
    public = server.gql_as(admin, launch, {"input": {"model": "Balancer", "environment": "CartPole"}})["launch"]
    server.gql_as(admin, "mutation($id: ID!) { setPublic(id: $id, public: true) { id } }", {"id": public["id"]})
    yield server, {"private": private["id"], "public": public["id"]}
    assert server.stop() == 0, server.log()


def sign_in(page: Page, server: ServerProcess, username: str) -> None:
    page.goto(server.url + "/")
    form = page.get_by_label("Sign in")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("username")).to_have_text(username)


def test_a_server_with_sign_in_asks_for_it_and_offers_only_its_providers(zoo, page, screenshot):
    server, _ = zoo
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.locator("header.topbar")).to_have_count(0)
    # The providers this server has: passwords and GitHub, no Google.
    expect(page.get_by_role("button", name=re.compile("Sign in with"))).to_have_text(["Sign in with GitHub"])
    screenshot(page, "sign-in")
    form = page.get_by_label("Sign in")
    form.get_by_label("Username").fill("val")
    form.get_by_label("Password").fill("wrong password")
    form.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()


def test_signing_in_with_a_provider_in_a_popup_hands_the_session_to_the_page(zoo, page):
    server, _ = zoo
    page.goto(server.url + "/")
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Sign in with GitHub").click()
    popup.value.wait_for_event("close")
    expect(page.get_by_test_id("username")).to_contain_text("octocat")
    expect(page.get_by_role("link", name="Instances")).to_be_visible()


def test_a_viewer_watches_but_gets_no_controls(zoo, page, screenshot):
    server, ids = zoo
    sign_in(page, server, "val")
    expect(page.get_by_role("link", name="Launch…")).to_have_count(0)
    expect(page.get_by_role("link", name="Catalog")).to_be_visible()  # may look, not launch
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto(f"{server.url}/#/instance/{ids['private']}")
    view = page.get_by_test_id("instance-view")
    expect(view).to_have_attribute("data-status", "RUNNING")
    page.wait_for_function("document.querySelector('[data-testid=env-frame]').dataset.frames > 3", timeout=20_000)
    expect(page.get_by_role("toolbar", name="Instance controls")).to_have_count(0)
    expect(page.get_by_test_id("takeover")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Pause|Terminate|Save checkpoint|Record"))).to_have_count(0)
    screenshot(page, "viewer", full_page=True)


def test_an_operator_gets_the_controls_and_the_administration(zoo, page, screenshot):
    server, ids = zoo
    sign_in(page, server, "otto")
    expect(page.get_by_role("link", name="Launch", exact=True)).to_be_visible()
    page.goto(f"{server.url}/#/instance/{ids['private']}")
    expect(page.get_by_role("button", name=re.compile("Pause"))).to_be_visible()
    expect(page.get_by_test_id("takeover")).to_be_visible()
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_test_id("account-val")).to_contain_text("viewer")
    # Operators may see accounts but not change roles: that is the admins' call.
    expect(page.get_by_test_id("account-val").get_by_role("checkbox").first).to_be_disabled()


def test_an_admin_changes_roles_and_grants(zoo, page, screenshot):
    server, _ = zoo
    sign_in(page, server, "boss")
    page.get_by_role("link", name="Admin").click()
    row = page.get_by_test_id("account-val")
    row.get_by_role("checkbox", name="user").click()  # shows the server's answer once it is saved
    expect(row.get_by_role("checkbox", name="user")).to_be_checked()
    roles = server.gql_as(server.as_user("boss"), "{ users { username roles } }")["users"]
    assert sorted(next(u for u in roles if u["username"] == "val")["roles"]) == ["user", "viewer"]
    page.get_by_role("button", name="Grant").click()
    expect(page.get_by_role("cell", name="role:viewer")).to_be_visible()
    screenshot(page, "admin", full_page=True)
    row.get_by_role("checkbox", name="user").click()
    expect(row.get_by_role("checkbox", name="user")).not_to_be_checked()


def test_anybody_may_watch_public_instances_without_signing_in(zoo, page):
    server, ids = zoo
    page.goto(server.url + "/")
    page.get_by_role("button", name="Watch public AInimals without signing in").click()
    expect(page.get_by_test_id(f"instance-{ids['public']}")).to_be_visible()
    expect(page.get_by_test_id(f"instance-{ids['private']}")).to_have_count(0)
    page.get_by_test_id(f"instance-{ids['public']}").get_by_role("link").click()
    expect(page.get_by_test_id("instance-view")).to_have_attribute("data-status", "RUNNING")
    expect(page.get_by_test_id("takeover")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
