"""A worker's lifeline: it dies with its parent (the kernel's PDEATHSIG) and with its server (a pipe)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from ainimal_zookeeper.adapters.local import fork_server_guard
from ainimal_zookeeper.adapters.local.lifeline import watch_server

from support import pid_alive, wait_for


def test_the_watch_acts_once_the_servers_pipe_closes_and_not_before():
    read_end, write_end = os.pipe()
    gone = threading.Event()
    try:
        watch_server(read_end, grace=0.05, on_gone=gone.set)
        assert not gone.wait(0.3)  # the server holds its end: nothing happens
        os.close(write_end)  # the server died (the kernel closes its end)
        assert gone.wait(10)
    finally:
        os.close(read_end)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_process_that_asked_to_die_with_its_parent_dies_when_the_parent_is_killed(tmp_path):
    # parent -> child; the child asks to die with the parent, then sleeps forever.
    pid_file = tmp_path / "child.pid"
    child = textwrap.dedent(
        f"""
        import os, time
        from ainimal_zookeeper.adapters.local.lifeline import die_with_parent
        assert die_with_parent(os.getppid())
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        time.sleep(600)
        """
    )
    parent = textwrap.dedent(
        f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", {child!r}])
        time.sleep(600)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    try:
        child_pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the child's pid"))
        assert pid_alive(child_pid)
    finally:
        process.kill()
        process.wait()
    wait_for(lambda: not pid_alive(child_pid), timeout=10, what="the child gone with its parent")


def test_the_fork_server_guard_does_nothing_in_a_process_that_is_not_a_fork_server(monkeypatch):
    monkeypatch.delenv(fork_server_guard.PARENT_VARIABLE, raising=False)
    assert fork_server_guard.guard() is False
    # Inherited by a process whose parent is not that server (say a model's own subprocess).
    monkeypatch.setenv(fork_server_guard.PARENT_VARIABLE, str(os.getpid()))
    assert fork_server_guard.guard() is False
