"""The access end-to-end tests' server and clients: sign-in on, real HTTP, one client per role.

`AccessZoo` starts a local stand-in OAuth provider, makes the first admin with the
`create-admin` command, starts the server with `access_zoo.yaml` (secrets from the
environment), and signs in one account per role:

    admin (boss), operator (otto), user (uma, who owns the instances under test),
    user (ned, who owns none of them), viewer (val), and anonymous (no token).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from support import PORT_ATTEMPTS, REPO, GraphQLError, PortTaken, ServerProcess, free_port, wait_for

sys.path.insert(0, str(REPO / "tests" / "unit" / "auth"))  # the OAuth stand-in lives with the unit tests
from oauth_stand_in import CLIENT_SECRET, StandInProvider

HERE = Path(__file__).parent
CONFIG = HERE / "access_zoo.yaml"
SECRET = "access-tests-" + "k" * 56  # 69 bytes: HS256 needs 32 (and the HS512 forgery in the tests 64)
ISSUER = AUDIENCE = "zookeeper-access-tests"
ADMIN = "boss"
PASSWORD = "correct horse battery staple"
#: username -> roles of the accounts the admin creates.
ACCOUNTS = {"otto": ["operator"], "uma": ["user"], "ned": ["user"], "val": ["viewer"]}
LAUNCH = "mutation($input: LaunchInput!) { launch(input: $input) { id status owner } }"


class Client:
    """GraphQL over HTTP as one viewer: a bearer token, a raw Authorization header, or neither."""

    def __init__(self, server: ServerProcess, token: str | None = None, header: str | None = None) -> None:
        self.server = server
        self.token = token
        value = header if header is not None else (f"Bearer {token}" if token else None)
        self.headers = {"Authorization": value} if value is not None else {}

    def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        body = {"query": query, "variables": variables or {}}
        return self.server.http.post("/graphql", json=body, headers=self.headers)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data; GraphQLError when the response has errors."""
        body = self.post(query, variables).json()
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return body["data"]

    def code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """The code of the request's first error (the request must fail)."""
        body = self.post(query, variables).json()
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]["extensions"]["code"]

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.server.http.get(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def subscribe(self, query: str, variables: dict[str, Any]) -> Subscription:
        return Subscription(self, query, variables)


class Subscription:
    """An SSE subscription: `status` and `body` when refused, `next()` payloads when it streams."""

    def __init__(self, client: Client, query: str, variables: dict[str, Any]) -> None:
        headers = {**client.headers, "Accept": "text/event-stream"}
        self._context = client.server.http.stream(
            "POST", "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        self.response = self._context.__enter__()
        self.status = self.response.status_code
        self.body = json.loads(self.response.read()) if self.status != 200 else None
        self._lines = self.response.iter_lines() if self.status == 200 else iter(())

    @property
    def code(self) -> str | None:
        return self.body["errors"][0]["extensions"]["code"] if self.body else None

    def next(self) -> dict[str, Any] | None:
        """The next result's data, or None when the server completed the stream."""
        for line in self._lines:
            if line.startswith("event: complete"):
                return None
            if line.startswith("data: ") and line != "data: ":
                message = json.loads(line[len("data: ") :])
                if message.get("errors"):
                    raise GraphQLError(message["errors"])
                return message["data"]
        return None

    def refused_code(self) -> str | None:
        """The code of the error the stream was refused with (graphql-sse: a `next` holding the
        error, then `complete`), or None when its first result is data."""
        try:
            self.next()
        except GraphQLError as refused:
            code: str = refused.args[0][0]["extensions"]["code"]
            assert self.next() is None, "a refused stream completes"
            return code
        return None

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


class AccessServer(ServerProcess):
    """The real server with sign-in on (access_zoo.yaml), started with extra environment variables."""

    def __init__(self, data_dir: Path, env: dict[str, str], port: int | None = None) -> None:
        """`port`: the one the environment names (a sign-in callback); None: any free one, and
        another when something takes it first."""
        self.port = port or free_port()
        args = [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(CONFIG), "--data", str(data_dir)]
        launch = [*args, "--port", str(self.port)]
        self._launch(launch, data_dir.parent, {**os.environ, **env}, another_port=port is None)


def create_admin(data_dir: Path, env: dict[str, str], username: str, password: str) -> subprocess.CompletedProcess:
    """`python -m ainimal_zookeeper.server create-admin`, with the password in ZK_ADMIN_PASSWORD."""
    command = [sys.executable, "-m", "ainimal_zookeeper.server", "create-admin", "--config", str(CONFIG)]
    command += ["--data", str(data_dir), "--username", username]
    variables = {**os.environ, **env, "ZK_ADMIN_PASSWORD": password}
    variables.pop("ZK_ADMIN_USERNAME", None)
    return subprocess.run(
        command, env=variables, cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


class AccessZoo:
    """The stand-in provider, the server, and one signed-in client per role."""

    def __init__(self, folder: Path, extra_env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.data_dir = folder / "data"
        self.provider = StandInProvider().__enter__()
        self.env = {
            "ZK_TEST_JWT_SECRET": SECRET,
            "ZK_TEST_GITHUB_SECRET": CLIENT_SECRET,
            "ZK_TEST_OAUTH_URL": self.provider.url,
            **(extra_env or {}),
        }
        port = self._call_back_to(free_port())
        made = create_admin(self.data_dir, self.env, ADMIN, PASSWORD)
        assert made.returncode == 0, made.stderr
        self.server = self._start_server(port)
        self.anonymous = Client(self.server)
        self.admin = self.sign_in(ADMIN)
        for username, roles in ACCOUNTS.items():
            self.admin.gql(
                "mutation($u: String!, $p: String!, $r: [String!]) { createAccount(username: $u, password: $p, roles: $r) { username } }",
                {"u": username, "p": PASSWORD, "r": roles},
            )
        self.operator, self.owner, self.other_user, self.viewer = (self.sign_in(name) for name in ACCOUNTS)

    def _call_back_to(self, port: int) -> int:
        """Name the server's `port` as the sign-in callback (the provider's and the server's)."""
        self.callback = f"http://127.0.0.1:{port}/auth/github/callback"
        self.provider.redirect_uri = self.env["ZK_TEST_OAUTH_REDIRECT"] = self.callback
        return port

    def _start_server(self, port: int) -> AccessServer:
        """The server on `port`, or on another one when something took it before the server
        bound it (every test picks ports), with the callback moved along."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                return AccessServer(self.data_dir, self.env, port)
            except PortTaken:
                if attempt == PORT_ATTEMPTS:
                    raise
                port = self._call_back_to(free_port())
        raise AssertionError("unreachable")

    def sign_in(self, username: str, password: str = PASSWORD) -> Client:
        session = self.anonymous.gql(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt } }",
            {"u": username, "p": password},
        )["login"]
        return Client(self.server, session["token"])

    def roles(self) -> dict[str, Client]:
        """Every role's client, by a name for test ids."""
        return {
            "admin": self.admin,
            "operator": self.operator,
            "owner": self.owner,
            "other-user": self.other_user,
            "viewer": self.viewer,
            "anonymous": self.anonymous,
        }

    def launch(self, client: Client, mode: str = "INFER") -> dict[str, Any]:
        instance = client.gql(LAUNCH, {"input": {"model": "Counter", "environment": "CartPole", "mode": mode}})
        launched = instance["launch"]
        assert launched["status"] == "RUNNING", launched
        return launched

    def stop(self) -> int:
        try:
            return self.server.stop()
        finally:
            self.provider.__exit__(None, None, None)


def token(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256", **headers: Any) -> str:
    """A JWT with the usual claims of this server's tokens, overridden by `claims`."""
    now = int(time.time())
    body = {"sub": ADMIN, "iat": now, "nbf": now, "exp": now + 300, "iss": ISSUER, "aud": AUDIENCE, **claims}
    return jwt.encode(body, key, algorithm=algorithm, headers=headers or None)


def wait_for_recording_steps(client: Client, recording_id: str, steps: int) -> dict[str, Any]:
    query = "query($r: ID!) { recording(id: $r) { id status steps chunks } }"
    return wait_for(
        lambda: (r := client.gql(query, {"r": recording_id})["recording"]) and r["steps"] >= steps and r,
        what=f"{steps} recorded steps",
    )
