"""Secure by default, as an attacker finds the server: sign-in unless the config says otherwise,
and an open server reachable only from this machine unless the config says so on purpose."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from support import ServerProcess, free_port

ENVS = "envs:\n  - name: CartPole\n    type: gymnasium\n    env_name: CartPole-v1\n"
LAUNCH = 'mutation { launch(input: {model: "Reinforce", environment: "CartPole"}) { id } }'


def start(config: Path, data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the server until it exits by itself (it refuses to start) or 20 s pass."""
    args = [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(config), "--data", str(data)]
    args += ["--port", str(free_port()), *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


def test_a_config_without_sign_in_or_no_auth_refuses_to_start_and_says_how_to_fix_it(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text(ENVS)  # no no_auth, no authentication_providers: nobody could sign in
    result = start(config, tmp_path / "data")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "sign-in is required" in result.stderr and "authentication_providers is empty" in result.stderr
    assert "type: jwt" in result.stderr and "no_auth: true" in result.stderr


def test_an_open_server_refuses_every_address_but_loopback(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\n" + ENVS)
    for host in ("0.0.0.0", "::"):
        result = start(config, tmp_path / "data", "--host", host)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "listens only on loopback" in result.stderr and "open_to_network" in result.stderr
    written = tmp_path / "on_all.yaml"
    written.write_text("no_auth: true\nserver: {host: 0.0.0.0}\n" + ENVS)
    result = start(written, tmp_path / "data")
    assert result.returncode == 2 and "not on '0.0.0.0'" in result.stderr


def test_an_open_server_on_the_network_needs_open_to_network_and_shouts_it(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\nserver: {host: 0.0.0.0, open_to_network: true}\n" + ENVS)
    server = ServerProcess(config, tmp_path / "data")
    try:
        assert server.gql("{ __typename }") == {"__typename": "Query"}
    finally:
        assert server.stop() == 0
    log = server.log()
    assert "runs OPEN" in log and "EVERYONE ON THE NETWORK MAY LAUNCH, CONTROL AND DELETE EVERYTHING" in log


def test_a_server_with_sign_in_refuses_an_anonymous_launch_over_http(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text(
        "authentication_providers:\n  - type: jwt\n    jwt_secret: "
        + "s" * 40
        + "\n"
        + ENVS
        + "models:\n  - name: Reinforce\n    type: ainimal\n"
        + f"    path: {Path(__file__).parents[2] / 'examples' / 'cartpole_reinforce.py'}\n"
        + "    class_name: ReinforceAgent\n"
    )
    server = ServerProcess(config, tmp_path / "data")
    try:
        answer = httpx.post(f"{server.url}/graphql", json={"query": LAUNCH}, timeout=30)
        errors = answer.json()["errors"]
        # An anonymous viewer sees no models, so the one it names looks missing.
        assert errors[0]["extensions"]["code"] == "NOT_FOUND", errors
        assert answer.json()["data"] is None
        assert server.gql("{ models { name } }")["models"] == []
    finally:
        assert server.stop() == 0


# ---- browsers: DNS rebinding, foreign pages, headers (over real HTTP) ----

STREAM = "subscription { instanceEvents { instance kind } }"


def test_a_rebound_host_name_gets_nothing_and_the_configured_names_answer(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\nserver: {allowed_hosts: [zoo.lan]}\n" + ENVS)
    server = ServerProcess(config, tmp_path / "data", extra=["--client"])
    try:
        rebound = {"host": f"rebind.attacker.example:{server.port}"}
        launch = httpx.post(f"{server.url}/graphql", json={"query": LAUNCH}, headers=rebound, timeout=30)
        assert launch.status_code == 421 and "server.allowed_hosts" in launch.json()["errors"][0]["message"]
        stream = httpx.post(
            f"{server.url}/graphql",
            json={"query": STREAM},
            headers={**rebound, "accept": "text/event-stream"},
            timeout=30,
        )
        assert stream.status_code == 421
        assert httpx.get(f"{server.url}/", headers=rebound, timeout=30).status_code == 421  # not even the page
        for name in (f"zoo.lan:{server.port}", f"localhost:{server.port}", f"[::1]:{server.port}"):
            answer = httpx.post(
                f"{server.url}/graphql", json={"query": "{ __typename }"}, headers={"host": name}, timeout=30
            )
            assert answer.status_code == 200, (name, answer.text)
    finally:
        assert server.stop() == 0


def test_pages_of_other_sites_may_not_act_or_stream_but_the_server_s_own_page_may(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\n" + ENVS)
    server = ServerProcess(config, tmp_path / "data", extra=["--client"])
    try:
        foreign = {"origin": "https://evil.example"}
        act = httpx.post(f"{server.url}/graphql", json={"query": LAUNCH}, headers=foreign, timeout=30)
        assert act.status_code == 403 and "server.cors_origins" in act.json()["errors"][0]["message"]
        with httpx.stream(
            "POST",
            f"{server.url}/graphql",
            json={"query": STREAM},
            headers={**foreign, "accept": "text/event-stream"},
            timeout=30,
        ) as stream:
            assert stream.status_code == 403
        own = {"origin": server.url}
        answer = httpx.post(f"{server.url}/graphql", json={"query": "{ __typename }"}, headers=own, timeout=30)
        assert answer.status_code == 200
    finally:
        assert server.stop() == 0


def test_everything_served_carries_the_security_headers(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text("no_auth: true\n" + ENVS)
    server = ServerProcess(config, tmp_path / "data", extra=["--client"])
    try:
        for path in ("/", "/graphql?query=%7B__typename%7D", "/sw.js", "/manifest.webmanifest", "/healthz"):
            answer = httpx.get(f"{server.url}{path}", timeout=30)
            assert answer.status_code == 200, path
            assert answer.headers["x-content-type-options"] == "nosniff", path
            assert answer.headers["x-frame-options"] == "DENY", path
            assert answer.headers["referrer-policy"] == "no-referrer", path
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
        page_policy = httpx.get(f"{server.url}/", timeout=30).headers["content-security-policy"]
        assert "script-src 'self' 'sha256-" in page_policy and "'unsafe-inline'" not in page_policy
    finally:
        assert server.stop() == 0
