"""Model code looking for the server's secrets, in a real worker of a real server over HTTP.

The AInimal below, in its constructor, reads its own environment, its fork server's, and tries
its server's; it walks the data folder and reads every file it can. It writes what it found
to a report file. Nothing it found may sign in: no JWT secret, no admin password, no token.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import jwt
import pytest

from support import ServerProcess, free_port, launch_running, terminate, wait_for

SECRET = "secrets-tests-" + "s" * 50
ADMIN_PASSWORD = "hunter2-but-longer-and-secret"
SHELL_TOKEN = "ghp_the-operators-shell-token"

SNOOP = textwrap.dedent(
    """
    import json, os
    from pathlib import Path
    from ainimal_zookeeper import AInimal


    def environ_of(pid):
        try:
            return Path(f"/proc/{pid}/environ").read_bytes().decode("latin-1")
        except OSError as exc:
            return f"unreadable: {type(exc).__name__}"


    def parent_of(pid):
        text = Path(f"/proc/{pid}/stat").read_text()
        return int(text[text.rindex(")") + 2 :].split()[1])


    class Snoop(AInimal):
        def __init__(self):
            super().__init__()
            fork_server = os.getppid()
            server = parent_of(fork_server)
            data = Path(os.environ["ZK_TEST_SNOOP_DATA"])
            contents, modes = [], {}
            for path in sorted(data.rglob("*")):
                modes[str(path.relative_to(data))] = path.lstat().st_mode
                if path.is_file():
                    contents.append(path.read_bytes()[: 1 << 22].decode("latin-1"))
            children = {}  # the server's other children: resource tracker, launch_etc
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit() and int(entry.name) != fork_server:
                    try:
                        if parent_of(entry.name) == server:
                            children[entry.name] = environ_of(entry.name)
                    except (OSError, ValueError):
                        pass
            report = {
                "children": children,
                "self": environ_of("self"),
                "fork_server": environ_of(fork_server),
                "server_pid": server,
                "server": environ_of(server),
                "data_mode": data.lstat().st_mode,
                "modes": modes,
                "data": "\\n".join(contents),
            }
            Path(os.environ["ZK_TEST_SNOOP_REPORT"]).write_text(json.dumps(report))

        def forward(self, inputs):
            return {"action": 0}

        def save(self, path):
            Path(path, "weights.txt").write_text("w")

        def load(self, path):
            pass
    """
)

CONFIG = """
no_auth: false
launch_etc:
  - cmd: exec sleep 120
workers:
  stop_grace_seconds: 1
  environment: [ZK_TEST_SNOOP_REPORT, ZK_TEST_SNOOP_DATA]
envs:
  - name: CartPole
    type: gymnasium
    env_name: CartPole-v1
models:
  - name: Snoop
    type: ainimal
    path: snoop.py
    class_name: Snoop
authentication_providers:
  - type: jwt
    admin_can_create_account: true
"""


@pytest.fixture(scope="module")
def snooped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zk-secrets")
    (folder / "snoop.py").write_text(SNOOP)
    (folder / "zoo.yaml").write_text(CONFIG)
    data, report = folder / "data", folder / "report.json"
    # An older server left the data folder readable by everyone.
    data.mkdir(mode=0o755)
    (data / "left-over.txt").write_text("old")
    os.chmod(data / "left-over.txt", 0o644)
    os.chmod(data, 0o755)
    env = {
        **os.environ,
        "ZK_JWT_SECRET": SECRET,
        "ZK_ADMIN_USERNAME": "boss",
        "ZK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GITHUB_TOKEN": SHELL_TOKEN,
        "ZK_TEST_SNOOP_REPORT": str(report),
        "ZK_TEST_SNOOP_DATA": str(data),
    }
    server = ServerProcess.__new__(ServerProcess)
    server.port = free_port()
    args = [sys.executable, "-m", "ainimal_zookeeper.server", "--port", str(server.port), "--data", str(data)]
    server._launch([*args, "--config", str(folder / "zoo.yaml")], folder, env)
    try:
        token = server.http.post(
            "/graphql",
            json={
                "query": 'mutation($p: String!) { login(username: "boss", password: $p) { token } }',
                "variables": {"p": ADMIN_PASSWORD},
            },
        ).json()["data"]["login"]["token"]
        server.http.headers["Authorization"] = f"Bearer {token}"
        # Something stored to find: a launched instance's documents, a checkpoint's blobs.
        instance = launch_running(server, {"model": "Snoop", "environment": "CartPole"})["id"]
        wait_for(report.exists, timeout=30, what="the snoop's report")
        server.gql(f'mutation {{ saveCheckpoint(id: "{instance}") {{ id }} }}')
        terminate(server, instance)
        yield json.loads(report.read_text()), data, token, server
    finally:
        assert server.stop() == 0, server.log()


def test_a_worker_environment_holds_no_secret_of_the_server(snooped):
    report, *_ = snooped
    for where in ("self", "fork_server"):
        environment = report[where]
        assert "PATH=" in environment, (where, environment[:200])
        for secret in (SECRET, ADMIN_PASSWORD, SHELL_TOKEN, "ZK_JWT_SECRET", "ZK_ADMIN_PASSWORD", "GITHUB_TOKEN"):
            assert secret not in environment, (where, secret)
    # Nor the server's other children, which are as readable: its resource tracker, launch_etc.
    assert len(report["children"]) >= 2, report["children"].keys()
    for pid, environment in report["children"].items():
        assert "PATH=" in environment, (pid, environment[:200])
        for secret in (SECRET, ADMIN_PASSWORD, "ZK_JWT_SECRET", "ZK_ADMIN_PASSWORD"):
            assert secret not in environment, (pid, secret)
    # The operator's explicit additions (workers.environment) do reach it.
    assert "ZK_TEST_SNOOP_REPORT=" in report["self"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root (CAP_SYS_PTRACE) reads every process's environment")
def test_a_worker_cannot_read_its_server_environment(snooped):
    report, *_ = snooped
    assert report["server"].startswith("unreadable: PermissionError"), report["server"][:100]


def test_the_data_folder_holds_nothing_that_signs_in(snooped):
    report, _, token, _ = snooped
    data = report["data"]
    assert "zookeeper.sqlite3" in report["modes"], sorted(report["modes"])
    for secret in (SECRET, ADMIN_PASSWORD, token, token.split(".")[2]):
        assert secret not in data
    assert "$argon2id$" in data  # the admin's password, as a slow salted hash only
    # No session token of any kind is stored: none of the three-part JWT shape of ours.
    assert "eyJhbGciOi" not in data and "eyJ0eXAiOi" not in data


def test_the_data_folder_and_everything_in_it_is_private_to_the_server_user(snooped):
    report, data, *_ = snooped
    assert stat.S_IMODE(report["data_mode"]) == 0o700
    others = {name: oct(mode) for name, mode in report["modes"].items() if mode & 0o077 and not stat.S_ISLNK(mode)}
    assert others == {}
    # And after the server wrote more (a checkpoint, the store's journal), from outside.
    later = {
        str(p): oct(p.lstat().st_mode) for p in data.rglob("*") if p.lstat().st_mode & 0o077 and not p.is_symlink()
    }
    assert later == {}
    assert stat.S_IMODE(os.stat(data / "left-over.txt").st_mode) == 0o600  # taken back at start


def test_a_token_forged_without_the_secret_is_refused(snooped):
    _, _, token, server = snooped
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "a guess at the secret, long enough for HS256 ok", algorithm="HS256")
    answer = server.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {forged}"}
    ).json()
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_create_admin_command_makes_a_private_data_folder_and_store(tmp_path):
    (tmp_path / "zoo.yaml").write_text(CONFIG.replace("  - cmd: exec sleep 120\n", "").replace("launch_etc:\n", ""))
    (tmp_path / "snoop.py").write_text(SNOOP)
    data = tmp_path / "data"
    env = {**os.environ, "ZK_JWT_SECRET": SECRET, "ZK_ADMIN_PASSWORD": ADMIN_PASSWORD}
    args = [sys.executable, "-m", "ainimal_zookeeper.server", "create-admin", "--config", str(tmp_path / "zoo.yaml")]
    made = subprocess.run(
        [*args, "--data", str(data), "--username", "boss"], env=env, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    modes = {p.name: stat.S_IMODE(p.lstat().st_mode) for p in [data, *data.rglob("*")]}
    assert modes["data"] == 0o700 and modes["zookeeper.sqlite3"] == 0o600, modes
    assert all(not mode & 0o077 for mode in modes.values()), modes
