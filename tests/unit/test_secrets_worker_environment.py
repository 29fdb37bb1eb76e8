"""The allow-list of what local workers inherit, the data folder's modes, the hidden server process."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys

import pytest

from ainimal_zookeeper.adapters.local.worker_environment import worker_environment
from ainimal_zookeeper.bootstrap.data_folder import secure_data_folder
from ainimal_zookeeper.config import ZookeeperConfig

SERVER_ENVIRONMENT = {
    "PATH": "/usr/bin",
    "HOME": "/home/op",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "CUDA_VISIBLE_DEVICES": "0",
    "PUBSUB_EMULATOR_HOST": "127.0.0.1:8085",
    "ZK_JWT_SECRET": "s" * 40,
    "ZK_ADMIN_PASSWORD": "pw",
    "ZK_GITHUB_CLIENT_SECRET": "cs",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "GOOGLE_APPLICATION_CREDENTIALS": "/keys/sa.json",
    "MY_MODEL_SETTING": "x",
}


def test_workers_get_what_they_need_to_run_and_none_of_the_server_secrets():
    given = worker_environment(SERVER_ENVIRONMENT)
    assert set(given) == {
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "OMP_NUM_THREADS",
        "CUDA_VISIBLE_DEVICES",
        "PUBSUB_EMULATOR_HOST",
    }


def test_names_the_operator_lists_are_passed_on_purpose():
    assert worker_environment(SERVER_ENVIRONMENT, ["MY_MODEL_SETTING"])["MY_MODEL_SETTING"] == "x"


def test_google_credentials_are_passed_only_when_the_workers_ports_are_on_google_cloud():
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in worker_environment(SERVER_ENVIRONMENT)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in worker_environment(SERVER_ENVIRONMENT, cloud_credentials=True)


def test_the_workers_environment_setting_takes_variable_names_only():
    config = ZookeeperConfig.model_validate({"workers": {"environment": ["HF_TOKEN"]}})
    assert config.workers.environment == ["HF_TOKEN"]
    with pytest.raises(ValueError, match="environment"):
        ZookeeperConfig.model_validate({"workers": {"environment": ["HF_TOKEN=abc"]}})


def test_a_world_readable_data_folder_is_made_private_at_start_and_says_so(tmp_path, caplog):
    data = tmp_path / "data"
    (data / "blobs" / "cas").mkdir(parents=True)
    for path in (data, data / "blobs", data / "blobs" / "cas"):
        os.chmod(path, 0o755)
    (data / "zookeeper.sqlite3").write_text("db")
    os.chmod(data / "zookeeper.sqlite3", 0o644)
    (data / "blobs" / "cas" / "ab").write_text("blob")
    os.chmod(data / "blobs" / "cas" / "ab", 0o664)
    with caplog.at_level(logging.WARNING):
        assert secure_data_folder(data) == 5
    assert "other users could read" in caplog.text
    modes = {p.relative_to(data).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
    assert modes == {"blobs": 0o700, "blobs/cas": 0o700, "zookeeper.sqlite3": 0o600, "blobs/cas/ab": 0o600}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert secure_data_folder(data) == 0  # nothing left to change, nothing to say


def test_a_new_data_folder_is_created_private(tmp_path):
    secure_data_folder(tmp_path / "new" / "data")
    assert stat.S_IMODE((tmp_path / "new" / "data").stat().st_mode) == 0o700


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_DUMPABLE is Linux's")
def test_a_hidden_server_process_is_not_dumpable_and_its_children_executed_afresh_are():
    script = (
        "import ctypes, subprocess, sys\n"
        "from ainimal_zookeeper.server.process_privacy import hide_process\n"
        "assert hide_process()\n"
        "libc = ctypes.CDLL(None)\n"
        "print(libc.prctl(3, 0, 0, 0, 0))\n"  # PR_GET_DUMPABLE
        "child = 'import ctypes; print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))'\n"
        "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True).stdout.strip())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "1"]


def test_the_server_secrets_are_known_by_name_and_by_the_values_sign_in_settings_use():
    from ainimal_zookeeper.server.secret_names import without_secrets

    environ = {
        "PATH": "/usr/bin",
        "ZK_JWT_SECRET": "j" * 40,
        "ZK_ADMIN_PASSWORD": "pw",
        "ZK_GITHUB_CLIENT_SECRET": "gh",
        "MY_SIGNING_KEY": "k" * 40,
        "ZK_ADMIN_USERNAME": "boss",
    }
    providers = [{"type": "jwt", "jwt_secret": "k" * 40}, None]
    assert without_secrets(environ, providers) == {"PATH": "/usr/bin", "ZK_ADMIN_USERNAME": "boss"}


def test_side_processes_get_the_environment_they_are_given(tmp_path):
    from ainimal_zookeeper.server.side_processes import SideProcesses

    out = tmp_path / "env.txt"
    side = SideProcesses([f"env > {out}"], {"PATH": os.environ["PATH"], "ONLY": "this"})
    side.start()
    side.processes[0].wait(10)
    side.stop()
    assert "ONLY=this" in out.read_text() and "ZK_" not in out.read_text()
