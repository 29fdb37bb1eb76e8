"""launch_etc: a command that exits is reported; commands see .env.local but not the server's secrets."""

from __future__ import annotations

import logging
import os
import subprocess
import threading

import pytest

from ainimal_zookeeper.auth.open_access import OpenAuthorizer
from ainimal_zookeeper.config import load_config
from ainimal_zookeeper.domain.access import LOCAL_OPERATOR, Resource, Viewer
from ainimal_zookeeper.errors import Forbidden
from ainimal_zookeeper.server.side_processes import SideProcesses, side_process_environment
from ainimal_zookeeper.service.side_processes import SideProcessBoard, SideProcessState


def test_a_command_that_exits_is_reported_with_its_code_in_the_log_and_its_state(caplog):
    seen: list[SideProcessState] = []
    exited = threading.Event()

    def on_exit(state: SideProcessState) -> None:
        seen.append(state)
        exited.set()

    side = SideProcesses(["exit 3", "sleep 60"], env={"PATH": os.environ["PATH"]}, on_exit=on_exit)
    with caplog.at_level(logging.INFO, logger="ainimal_zookeeper.server.side_processes"):
        side.start()
        assert exited.wait(10)
        assert side.states() == [SideProcessState("exit 3", "EXITED", 3), SideProcessState("sleep 60", "RUNNING")]
        assert seen == [SideProcessState("exit 3", "EXITED", 3)]
        assert "launch_etc: 'exit 3' exited with code 3; it is not restarted" in caplog.text
        side.stop(grace_seconds=2)
    stopped = side.states()[1]
    assert (stopped.status, stopped.exit_code) == ("STOPPED", -15)  # SIGTERM from the server
    assert "'sleep 60' stopped" in caplog.text and "'sleep 60' exited" not in caplog.text


def test_commands_are_shown_as_configured_not_as_run():
    side = SideProcesses(["echo s3cret-value"], shown=["echo ${env.TOKEN}"])
    assert side.states() == [SideProcessState("echo ${env.TOKEN}", "NOT_STARTED")]
    with pytest.raises(ValueError, match="one text per command"):
        SideProcesses(["a", "b"], shown=["a"])


def test_a_command_that_cannot_start_stays_not_started_and_the_others_start(monkeypatch, caplog):
    real = subprocess.Popen

    def popen(command, **kwargs):
        if command == "broken":
            raise OSError("no shell")
        return real(command, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    side = SideProcesses(["broken", "exit 0"])
    side.start()
    assert side.wait_reported(timeout=10)
    assert [s.status for s in side.states()] == ["NOT_STARTED", "EXITED"]
    assert "could not start 'broken': no shell" in caplog.text
    side.stop()


def test_the_config_records_launch_etc_commands_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZK_TEST_TOKEN", "s3cret")
    (tmp_path / "zoo.yaml").write_text('launch_etc: [{cmd: "dash --token ${env.ZK_TEST_TOKEN} --port $ROS_PORT"}]\n')
    config = load_config(tmp_path / "zoo.yaml")
    assert config.launch_etc[0].cmd == "dash --token s3cret --port $ROS_PORT"
    assert config.launch_etc_as_written == ["dash --token ${env.ZK_TEST_TOKEN} --port $ROS_PORT"]


def test_side_processes_get_env_local_beside_the_config_without_the_server_secrets(tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    folder = tmp_path / "zoo"
    folder.mkdir()
    (folder / ".env.local").write_text(
        "ROS_PORT=11311\nZK_JWT_SECRET="
        + "j" * 40
        + "\nGITHUB_TOKEN=ghp_x\nMY_SIGNER="
        + "k" * 40
        + "\nHF_TOKEN=hf_x\n"
    )
    (folder / "zoo.yaml").write_text(
        "no_auth: false\n"
        "authentication_providers: [{type: jwt, jwt_secret: '${env.MY_SIGNER}'}]\n"
        "model_hubs: [{type: github, owner: me}]\n"
        "launch_etc: [{cmd: 'echo $ROS_PORT'}]\n"
    )
    monkeypatch.delenv("ROS_PORT", raising=False)
    monkeypatch.setenv("ZK_ADMIN_PASSWORD", "pw")
    env = side_process_environment(load_config(folder / "zoo.yaml"))
    assert env["ROS_PORT"] == "11311" and env["HF_TOKEN"] == "hf_x"  # no huggingface hub here
    for secret in ("ZK_JWT_SECRET", "GITHUB_TOKEN", "MY_SIGNER", "ZK_ADMIN_PASSWORD"):
        assert secret not in env
    out = tmp_path / "out.txt"
    side = SideProcesses([f"echo port=$ROS_PORT > {out}"], env)
    side.start()
    assert side.wait_reported(timeout=10)
    assert out.read_text() == "port=11311\n"


def test_the_environment_of_side_processes_hides_hub_and_bus_secrets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, value in {"MY_HF": "hf_x", "AWS_SECRET_ACCESS_KEY": "aws", "SIGNING": "b" * 32, "KEPT": "yes"}.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "zoo.yaml").write_text(
        "model_hubs:\n"
        "  - {type: huggingface, view_qualifier: {owner: me}, token_env: MY_HF}\n"
        "  - {type: aws_s3, bucket: b}\n"
        "gcp: {bus_signing_secret: '${env.SIGNING}'}\n"
    )
    env = side_process_environment(load_config(tmp_path / "zoo.yaml"))
    assert env["KEPT"] == "yes"
    assert not {"MY_HF", "AWS_SECRET_ACCESS_KEY", "SIGNING"} & set(env)


class _Deny(OpenAuthorizer):
    def allows(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        return False


def test_the_board_lists_side_processes_to_who_may_manage_the_server_only():
    side = SideProcesses(["exit 3"], shown=["exit ${env.X}"])
    board = SideProcessBoard(OpenAuthorizer())
    assert board.list_for(LOCAL_OPERATOR) == []  # nothing attached: a server without launch_etc
    board.attach(side)
    assert board.list_for(LOCAL_OPERATOR) == [{"cmd": "exit ${env.X}", "status": "NOT_STARTED", "exitCode": None}]
    with pytest.raises(Forbidden, match="bob may not manage server"):
        SideProcessBoard(_Deny()).list_for(Viewer("bob", ("user",)))


def test_with_sign_in_only_admins_see_side_processes(tmp_path):
    from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
    from ainimal_zookeeper.auth.grants import GrantStore
    from ainimal_zookeeper.auth.role_authorizer import RoleAuthorizer

    store = SqliteDocumentStore(tmp_path / "state.db")
    try:
        board = SideProcessBoard(RoleAuthorizer(GrantStore(store, cache_seconds=0)))
        board.attach(SideProcesses(["true"]))
        assert board.list_for(Viewer("ann", ("admin",)))[0]["cmd"] == "true"
        for role in ("operator", "user", "viewer", "anonymous"):
            with pytest.raises(Forbidden):
                board.list_for(Viewer("someone", (role,)))
    finally:
        store.close()
