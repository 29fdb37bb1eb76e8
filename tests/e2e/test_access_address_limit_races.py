"""The per-address login limit over real HTTP: concurrent attempts from one address get exactly
the limit of tries, whatever names they try, and the right password waits too."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from support import REPO, ServerProcess, free_port

PER_ADDRESS = 8  # each try that is let through costs a password hash: few keep the test quick
TRIES = 20
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
SECRET = "address-limit-test-secret-0123456789abcdef"
PASSWORD = "a long enough password 42"
CONFIG = f"""
no_auth: false
authentication_providers:
  - type: jwt
    jwt_secret: ${{env.ZK_TEST_JWT_SECRET}}
    max_login_attempts_per_account: 1000
    max_login_attempts_per_address: {PER_ADDRESS}
"""


class _Server(ServerProcess):
    """The real server, started with the given environment."""

    def __init__(self, config: Path, data: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(config), "--data", str(data)]
        self._launch([*args, "--port", str(self.port)], data.parent, env, another_port=True)


def test_twenty_concurrent_logins_from_one_address_get_exactly_its_limit_of_tries(tmp_path: Path):
    config = tmp_path / "zoo.yaml"
    config.write_text(CONFIG)
    data = tmp_path / "data"
    env = {**os.environ, "ZK_TEST_JWT_SECRET": SECRET, "ZK_ADMIN_PASSWORD": PASSWORD}
    made = subprocess.run(
        [sys.executable, "-m", "ainimal_zookeeper.server", "create-admin", "--config", str(config)]
        + ["--data", str(data), "--username", "root"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert made.returncode == 0, made.stderr
    server = _Server(config, data, {k: v for k, v in env.items() if k != "ZK_ADMIN_PASSWORD"})
    try:
        barrier = threading.Barrier(TRIES)
        statuses: list[int] = []

        def attempt(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                barrier.wait()
                wrong = {"query": LOGIN, "variables": {"u": f"guess{i}", "p": "wrong guess!!"}}
                statuses.append(client.post("/graphql", json=wrong).status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(TRIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(statuses) == TRIES
        assert sum(status != 429 for status in statuses) == PER_ADDRESS, sorted(statuses)
        right = server.post(LOGIN, {"u": "root", "p": PASSWORD})
        assert right.status_code == 429, right.text
    finally:
        assert server.stop() == 0, server.log()
